import { ApiProperty } from '@nestjs/swagger';

export class CreatedApiKeyDto {
  @ApiProperty({ format: 'uuid', description: 'The key id (the `kid` of its tokens; used to revoke it).' })
  id: string;

  @ApiProperty({ example: 'ak_live_3q2x…(32 characters)', description: 'The public key: `x-api-key`.' })
  apiKey: string;

  @ApiProperty({
    example: 'sk_Vn8c…(43 characters)',
    description: 'The secret key: `x-secret-key`. Shown only in this answer; the relay keeps its SHA-256.',
  })
  secretKey: string;

  @ApiProperty({ example: '2026-11-30T06:00:00.000Z' })
  createdAt: string;
}

export class ApiKeyDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({ example: 'ak_live_3q2x…(32 characters)' })
  apiKey: string;

  @ApiProperty({ example: '2026-11-30T06:00:00.000Z' })
  createdAt: string;

  @ApiProperty({
    type: String,
    nullable: true,
    example: '2026-11-30T06:10:00.000Z',
    description: 'Last use of the key pair or of a token of it (updated at most about once a minute).',
  })
  lastUsedAt: string | null;
}

export class ApiKeyListDto {
  @ApiProperty({ type: [ApiKeyDto], description: 'Newest first, at most 20 (the cap per account).' })
  items: ApiKeyDto[];
}
