import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  IsDefined,
  IsNotEmpty,
  IsObject,
  IsOptional,
  IsString,
  MaxLength,
  ValidateIf,
  ValidateNested,
} from 'class-validator';
import { MAX_CALLBACK_URL_BYTES, MAX_KAKAO_ID_LENGTH } from '@app/core';

/*
 * Validation shape of a Kakao SkillPayload: only what the relay relies on is checked; everything else is
 * kept and forwarded exactly as received (the pipe validates a copy and hands the original on).
 */

export class KakaoUserPropertiesDto {
  @ApiPropertyOptional({
    description:
      'Channel-scoped user key; when a non-empty string it is the user id of the conversation. ' +
      `A string longer than ${MAX_KAKAO_ID_LENGTH} characters is refused (400); other types are ignored.`,
    type: 'string',
    maxLength: MAX_KAKAO_ID_LENGTH,
  })
  @ValidateIf((_o, value) => typeof value === 'string')
  @MaxLength(MAX_KAKAO_ID_LENGTH)
  plusfriendUserKey?: unknown;
}

export class KakaoUserDto {
  @ApiProperty({ description: 'botUserKey, bot-scoped, up to 70 chars', maxLength: MAX_KAKAO_ID_LENGTH })
  @IsString()
  @IsNotEmpty()
  @MaxLength(MAX_KAKAO_ID_LENGTH)
  id: string;

  @ApiPropertyOptional({
    description: 'plusfriendUserKey, appUserId, isFriend… (other keys are passed through unchecked)',
    type: KakaoUserPropertiesDto,
  })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => KakaoUserPropertiesDto)
  properties?: KakaoUserPropertiesDto;
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

  @ApiPropertyOptional({
    description:
      'Present when the block has callback enabled; single use, 1 minute. At most 1 KiB (UTF-8), and it must ' +
      'pass the callback policy without DNS (https, KAKAO_CALLBACK_ALLOWED_HOSTS, port 443 unless host:port ' +
      'is listed, no credentials, no non-public IP literal): otherwise 400 and nothing is stored. DNS is ' +
      'checked when the reply is sent.',
    maxLength: MAX_CALLBACK_URL_BYTES,
  })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(MAX_CALLBACK_URL_BYTES)
  callbackUrl?: string;
}

export class BotDto {
  @ApiPropertyOptional({
    description:
      'The channel id of the conversation; must be listed in KAKAO_ALLOWED_BOT_IDS when that is set',
    maxLength: MAX_KAKAO_ID_LENGTH,
  })
  @IsOptional()
  @IsString()
  @MaxLength(MAX_KAKAO_ID_LENGTH)
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
