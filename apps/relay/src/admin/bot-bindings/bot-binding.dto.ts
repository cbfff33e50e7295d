import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayNotEmpty,
  IsArray,
  IsIn,
  IsNotEmpty,
  IsString,
  IsUUID,
  MaxLength,
  ValidateBy,
  ValidateIf,
  ValidationArguments,
} from 'class-validator';
import {
  BOT_BINDING_CHANNELS,
  BOT_BINDING_POLICIES,
  BotBindingPolicy,
  ChannelName,
  MAX_BOT_BINDING_ALLOWLIST,
  MAX_BOT_BINDING_ID_LENGTH,
} from '@app/core';
import { pageOf } from '../dto/admin.dto';

/**
 * `PUT /admin/api/bots/{channel}/{botId}/binding`. `allowlist` is required (non-empty) with the `allowlist` policy
 * and refused (400) with the others, so that a body never says something the relay ignores.
 */
export class PutBotBindingDto {
  @ApiProperty({ format: 'uuid', description: 'The account every user of the bot reaches' })
  @IsUUID('all', { message: 'accountId must be a UUID' })
  accountId: string;

  @ApiProperty({
    enum: BOT_BINDING_POLICIES,
    description:
      '`pairing`: users pair with a code (the default, as if unbound); `open`: every user reaches the account ' +
      'without /pair; `allowlist`: only the users listed in `allowlist` do, the others are refused',
  })
  @IsIn(BOT_BINDING_POLICIES, { message: `policy must be one of ${BOT_BINDING_POLICIES.join(', ')}` })
  policy: BotBindingPolicy;

  @ApiPropertyOptional({
    type: [String],
    maxItems: MAX_BOT_BINDING_ALLOWLIST,
    description:
      'Only with policy `allowlist` (required, non-empty): the user ids let through — Kakao: the ' +
      '`plusfriendUserKey` (the user part of the conversation key, else `userRequest.user.id`); Works: ' +
      '`source.userId`. At most 10,000 ids of at most 256 characters; duplicates are stored once.',
  })
  @ValidateIf((o: PutBotBindingDto) => o.policy === 'allowlist' || o.allowlist !== undefined)
  @ValidateBy({
    name: 'onlyWithAllowlistPolicy',
    validator: {
      validate: (_value: unknown, args?: ValidationArguments) =>
        (args?.object as PutBotBindingDto | undefined)?.policy === 'allowlist',
      defaultMessage: () => 'allowlist is only accepted with policy "allowlist"',
    },
  })
  @IsArray({ message: 'allowlist must be an array of user ids' })
  @ArrayNotEmpty({ message: 'allowlist must name at least one user with policy "allowlist"' })
  @ArrayMaxSize(MAX_BOT_BINDING_ALLOWLIST, {
    message: `allowlist must have at most ${MAX_BOT_BINDING_ALLOWLIST} ids`,
  })
  @IsString({ each: true, message: 'each allowlist entry must be a string' })
  @IsNotEmpty({ each: true, message: 'allowlist entries must not be empty' })
  @MaxLength(MAX_BOT_BINDING_ID_LENGTH, {
    each: true,
    message: `each allowlist entry must be at most ${MAX_BOT_BINDING_ID_LENGTH} characters`,
  })
  allowlist?: string[];
}

export class BotBindingDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ enum: BOT_BINDING_CHANNELS }) channel: ChannelName;
  @ApiProperty({ description: 'Kakao bot.id, or the Works bot id' }) botId: string;
  @ApiProperty({ format: 'uuid' }) accountId: string;
  @ApiProperty({ enum: BOT_BINDING_POLICIES }) policy: BotBindingPolicy;
  @ApiProperty({ type: [String], description: 'Empty unless the policy is `allowlist`' }) allowlist: string[];
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ format: 'date-time' }) updatedAt: string;
}

/** A binding in the list: the allow-list counted, not listed. */
export class BotBindingSummaryDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ enum: BOT_BINDING_CHANNELS }) channel: ChannelName;
  @ApiProperty() botId: string;
  @ApiProperty({ format: 'uuid' }) accountId: string;
  @ApiProperty({ enum: BOT_BINDING_POLICIES }) policy: BotBindingPolicy;
  @ApiProperty({ description: 'How many user ids the allow-list holds (GET the binding for the ids)' })
  allowlistCount: number;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ format: 'date-time' }) updatedAt: string;
}

export class BotBindingPageDto extends pageOf(BotBindingSummaryDto, 'BotBindingPageBase') {}
