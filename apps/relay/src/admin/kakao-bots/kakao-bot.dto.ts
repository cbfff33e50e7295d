import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsNotEmpty, IsOptional, IsString, Matches, MaxLength } from 'class-validator';

/** What a Kakao bot id may look like (OpenBuilder's are 24 hex characters); also the path parameter's rule. */
export const KAKAO_BOT_ID_PATTERN = /^[A-Za-z0-9._-]{1,100}$/;

/** `PUT /admin/api/kakao/bots/{botId}` (server-mode §6). */
export class PutKakaoBotDto {
  @ApiProperty({
    writeOnly: true,
    description:
      "The REST API key of the bot's Kakao app (Event API `Authorization: KakaoAK …`). Never returned.",
  })
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  restApiKey: string;

  @ApiProperty({
    description:
      "The event name of the event block that answers held answers (OpenBuilder: the block's event)",
    example: 'relay_held_answer',
  })
  @IsString()
  @Matches(/^[A-Za-z0-9_.-]{1,100}$/, {
    message: 'eventName must be 1 to 100 letters, digits, "_", "." or "-"',
  })
  eventName: string;

  @ApiPropertyOptional({ maxLength: 200, nullable: true, type: String })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  name?: string | null;
}

/** A Kakao bot's Event API settings as the admin API shows them: never the REST API key. */
export class KakaoBotDto {
  @ApiProperty() botId: string;
  @ApiProperty({ nullable: true, type: String }) name: string | null;
  @ApiProperty() eventName: string;
  @ApiProperty() hasRestApiKey: boolean;
  @ApiProperty() createdAt: string;
  @ApiProperty() updatedAt: string;
}

export class KakaoBotListDto {
  @ApiProperty({
    type: KakaoBotDto,
    isArray: true,
    description: 'Every bot with Event API settings, by bot id',
  })
  items: KakaoBotDto[];
}
