import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  IsDefined,
  IsNotEmpty,
  IsObject,
  IsOptional,
  IsString,
  MaxLength,
  ValidateNested,
} from 'class-validator';

/*
 * Validation shape of a Kakao SkillPayload: only what the relay relies on is checked; everything else is
 * kept and forwarded exactly as received (the pipe validates a copy and hands the original on).
 */

export class KakaoUserDto {
  @ApiProperty({ description: 'botUserKey, bot-scoped, up to 70 chars', maxLength: 200 })
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  id: string;

  @ApiPropertyOptional({
    description: 'plusfriendUserKey, appUserId, isFriend…',
    type: 'object',
    additionalProperties: true,
  })
  @IsOptional()
  @IsObject()
  properties?: Record<string, unknown>;
}

export class UserRequestDto {
  @ApiProperty({ description: 'What the user typed', maxLength: 10000 })
  @IsDefined()
  @IsString()
  @MaxLength(10000)
  utterance: string;

  @ApiProperty({ type: KakaoUserDto })
  @IsDefined()
  @IsObject()
  @ValidateNested()
  @Type(() => KakaoUserDto)
  user: KakaoUserDto;

  @ApiPropertyOptional({ description: 'Present when the block has callback enabled; single use, 1 minute.' })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(2048)
  callbackUrl?: string;
}

export class BotDto {
  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(200)
  id?: string;
}

export class SkillPayloadDto {
  @ApiProperty({ type: UserRequestDto })
  @IsDefined()
  @IsObject()
  @ValidateNested()
  @Type(() => UserRequestDto)
  userRequest: UserRequestDto;

  @ApiPropertyOptional({ type: BotDto })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => BotDto)
  bot?: BotDto;
}

export class SkillResponseDto {
  @ApiProperty({ enum: ['2.0'] })
  version: '2.0';

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description: 'outputs and quickReplies',
  })
  template?: Record<string, unknown>;

  @ApiPropertyOptional()
  useCallback?: boolean;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true })
  data?: Record<string, unknown>;
}
