import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, Max, Min, ValidateIf } from 'class-validator';
import { TOKEN_TTL } from '../auth/api-token.service';

export class CreateTokenDto {
  @ApiPropertyOptional({
    minimum: TOKEN_TTL.min,
    maximum: TOKEN_TTL.max,
    default: TOKEN_TTL.default,
    description: 'Lifetime of the token in seconds.',
  })
  // Absent means the default; null is not a number of seconds (400), unlike with @IsOptional().
  @ValidateIf((_, value) => value !== undefined)
  @IsInt()
  @Min(TOKEN_TTL.min)
  @Max(TOKEN_TTL.max)
  ttlSeconds?: number;
}

export class TokenDto {
  @ApiProperty({ description: 'A JWT (HS256): use it as "Authorization: Bearer <token>".' })
  token: string;

  @ApiProperty({ enum: ['Bearer'] })
  tokenType: 'Bearer';

  @ApiProperty({ example: '2026-11-30T07:00:00.000Z' })
  expiresAt: string;

  @ApiProperty({ format: 'uuid' })
  accountId: string;
}
