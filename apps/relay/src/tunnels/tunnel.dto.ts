import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, MaxLength } from 'class-validator';
import { Tunnel, TUNNEL_MODES, TunnelMode } from '@app/core';

export class CreateTunnelDto {
  @ApiPropertyOptional({ maxLength: 100, example: 'github-ci' })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  name?: string;

  @ApiPropertyOptional({
    enum: TUNNEL_MODES,
    default: 'live',
    description:
      'live: the caller gets the program’s answer (503 when it is not connected). durable: the request is ' +
      'stored and answered 202 at once, then delivered in order whenever the program is connected.',
  })
  @IsOptional()
  @IsIn(TUNNEL_MODES as TunnelMode[])
  mode?: TunnelMode;
}

export class TunnelDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({ type: String, nullable: true, example: 'github-ci' })
  name: string | null;

  @ApiProperty({ enum: TUNNEL_MODES })
  mode: TunnelMode;

  @ApiProperty({ example: 'https://relay.example.com/webhook/01936f0e-…' })
  webhookUrl: string;

  @ApiProperty({ description: 'A program holds the tunnel’s socket now (on any replica).' })
  connected: boolean;

  @ApiProperty({ example: '2026-11-30T06:00:00.000Z' })
  createdAt: string;

  @ApiProperty({
    example: '2026-11-30T06:00:00.000Z',
    description: 'Last traffic or connection (about ±1 minute).',
  })
  lastActivityAt: string;
}

export class CreatedTunnelDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({ example: 'https://relay.example.com/webhook/01936f0e-…' })
  webhookUrl: string;

  @ApiProperty({
    example: '01936f0e-….9f2c…(64 hex)',
    description:
      'The tunnel token: `Authorization: Bearer` of `GET /ws/{id}` and `--token` of kakao-relay-tunnel. It names ' +
      'its tunnel. Shown only in this answer; the relay keeps its SHA-256.',
  })
  token: string;

  @ApiProperty({ enum: TUNNEL_MODES })
  mode: TunnelMode;
}

export class TunnelListDto {
  @ApiProperty({ type: [TunnelDto], description: 'Newest first.' })
  items: TunnelDto[];
}

export function tunnelDto(tunnel: Tunnel, webhookUrl: string, connected: boolean): TunnelDto {
  return {
    id: tunnel.id,
    name: tunnel.name,
    mode: tunnel.mode,
    webhookUrl,
    connected,
    createdAt: tunnel.createdAt.toISOString(),
    lastActivityAt: tunnel.lastActivityAt.toISOString(),
  };
}
