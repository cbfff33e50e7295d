import { ApiProperty } from '@nestjs/swagger';
import { TUNNEL_MODES, TunnelMode } from '@app/core';
import { pageOf } from '../dto/admin.dto';

export class AdminTunnelDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({
    type: String,
    nullable: true,
    format: 'uuid',
    description: 'Null: an anonymous tunnel (GET /new)',
  })
  accountId: string | null;
  @ApiProperty({ type: String, nullable: true }) name: string | null;
  @ApiProperty({ enum: TUNNEL_MODES }) mode: TunnelMode;
  @ApiProperty() createdAt: string;
  @ApiProperty() lastActivityAt: string;
}

export class TunnelRequestLogDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) tunnelId: string;
  @ApiProperty({ example: 'POST' }) method: string;
  @ApiProperty({
    example: '/github?delivery=42',
    description: 'The suffix after /webhook/{id}, with the query',
  })
  path: string;
  @ApiProperty({
    type: Number,
    nullable: true,
    description: 'What the caller got (live) or the program answered',
  })
  status: number | null;
  @ApiProperty({ enum: ['pending', 'answered', 'failed'] }) state: string;
  @ApiProperty({ type: Number, nullable: true }) latencyMs: number | null;
  @ApiProperty({ description: 'Body size in bytes (the body itself is never listed)' }) sizeBytes: number;
  @ApiProperty() durable: boolean;
  @ApiProperty() createdAt: string;
  @ApiProperty({ type: String, nullable: true }) answeredAt: string | null;
}

export class AdminTunnelPageDto extends pageOf(AdminTunnelDto, 'AdminTunnelPageBase') {}
export class TunnelRequestPageDto extends pageOf(TunnelRequestLogDto, 'TunnelRequestPageBase') {}
