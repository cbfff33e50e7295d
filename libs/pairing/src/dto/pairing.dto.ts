import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

export class CreateSessionResponseDto {
  @ApiProperty({ example: 'a3f1…(64 hex)', description: 'The agent credential; only its SHA-256 is stored.' })
  sessionToken: string;

  @ApiProperty({ example: 'ABCD-2345', description: 'The code the Kakao user sends as `/pair ABCD-2345`.' })
  pairingCode: string;

  @ApiProperty({ example: 300, description: 'Seconds until the code expires.' })
  expiresIn: number;

  @ApiProperty({ enum: ['pending_pairing'] })
  status: 'pending_pairing';
}

export class SessionStatusResponseDto {
  @ApiProperty({ enum: ['pending_pairing', 'paired', 'expired', 'disconnected'] })
  status: 'pending_pairing' | 'paired' | 'expired' | 'disconnected';

  @ApiPropertyOptional({ example: '2026-11-27T06:40:00.000Z' })
  pairedAt?: string;

  @ApiPropertyOptional({
    example: 'Xk3Lp9QaZt2m',
    description: 'plusfriendUserKey of the paired Kakao user.',
  })
  kakaoUserId?: string;

  @ApiPropertyOptional({ format: 'uuid' })
  accountId?: string;
}
