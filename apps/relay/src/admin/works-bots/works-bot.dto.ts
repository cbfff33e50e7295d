import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  IsBoolean,
  IsNotEmpty,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  ValidateBy,
  ValidateIf,
  ValidationArguments,
} from 'class-validator';
import { MAX_PRIVATE_KEY_PEM_LENGTH, rsaPrivateKeyProblem } from '@app/core';
import { pageOf } from '../dto/admin.dto';

/** What a Works bot id may look like (Works' are digits); also the path parameter's rule. */
export const WORKS_BOT_ID_PATTERN = /^[A-Za-z0-9._-]{1,100}$/;
const SECRET_MAX = 1000;
const PLAIN_MAX = 320;

/** The value is an unencrypted RSA private key in PEM form; the message names the field, never the key. */
export function IsRsaPrivateKeyPem(): PropertyDecorator {
  const problem = (value: unknown) =>
    typeof value === 'string' ? rsaPrivateKeyProblem(value) : 'must be a PEM string';
  return ValidateBy({
    name: 'isRsaPrivateKeyPem',
    validator: {
      validate: (value: unknown) => problem(value) === null,
      defaultMessage: (args?: ValidationArguments) =>
        `${args?.property ?? 'privateKey'} ${problem(args?.value)}`,
    },
  });
}

const present = (field: string) => (o: Record<string, unknown>) => o[field] !== undefined;

export class CreateWorksBotDto {
  @ApiProperty({ description: 'The bot id of the Works Developer Console', example: '2000001' })
  @IsString()
  @Matches(WORKS_BOT_ID_PATTERN, { message: 'botId must be 1 to 100 letters, digits, ".", "_" or "-"' })
  botId: string;

  @ApiPropertyOptional({ maxLength: 200, nullable: true, type: String })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  name?: string | null;

  @ApiProperty({ writeOnly: true, description: 'Bot Secret: key of the callback signature. Never returned.' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(SECRET_MAX)
  botSecret: string;

  @ApiProperty({ description: 'Client ID of the client app (OAuth)' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(PLAIN_MAX)
  clientId: string;

  @ApiProperty({ writeOnly: true, description: 'Client Secret of the client app. Never returned.' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(SECRET_MAX)
  clientSecret: string;

  @ApiProperty({ example: 'abcde.serviceaccount@example.com' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(PLAIN_MAX)
  serviceAccount: string;

  @ApiProperty({
    writeOnly: true,
    description:
      "The client app's RSA private key, PEM (unencrypted), for the RS256 service-account JWT. Never returned.",
  })
  @IsString()
  @MaxLength(MAX_PRIVATE_KEY_PEM_LENGTH)
  @IsRsaPrivateKeyPem()
  privateKey: string;
}

/** Any field of the bot but its id; a secret given here replaces the stored one. `null` clears only `name`. */
export class UpdateWorksBotDto {
  @ApiPropertyOptional({ maxLength: 200, nullable: true, type: String })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  name?: string | null;

  @ApiPropertyOptional({ description: 'False: callbacks are refused (403) and nothing is sent for the bot' })
  @ValidateIf(present('enabled'))
  @IsBoolean()
  enabled?: boolean;

  @ApiPropertyOptional({ writeOnly: true })
  @ValidateIf(present('botSecret'))
  @IsString()
  @IsNotEmpty()
  @MaxLength(SECRET_MAX)
  botSecret?: string;

  @ApiPropertyOptional()
  @ValidateIf(present('clientId'))
  @IsString()
  @IsNotEmpty()
  @MaxLength(PLAIN_MAX)
  clientId?: string;

  @ApiPropertyOptional({ writeOnly: true })
  @ValidateIf(present('clientSecret'))
  @IsString()
  @IsNotEmpty()
  @MaxLength(SECRET_MAX)
  clientSecret?: string;

  @ApiPropertyOptional()
  @ValidateIf(present('serviceAccount'))
  @IsString()
  @IsNotEmpty()
  @MaxLength(PLAIN_MAX)
  serviceAccount?: string;

  @ApiPropertyOptional({ writeOnly: true, description: 'RSA private key, PEM (unencrypted)' })
  @ValidateIf(present('privateKey'))
  @IsString()
  @MaxLength(MAX_PRIVATE_KEY_PEM_LENGTH)
  @IsRsaPrivateKeyPem()
  privateKey?: string;
}

/** A registered bot as the admin API shows it: never its secrets nor its private key. */
export class WorksBotDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() botId: string;
  @ApiProperty({ nullable: true, type: String }) name: string | null;
  @ApiProperty() enabled: boolean;
  @ApiProperty() clientId: string;
  @ApiProperty() serviceAccount: string;
  @ApiProperty() hasPrivateKey: boolean;
  @ApiProperty() createdAt: string;
  @ApiProperty() updatedAt: string;
}

export class WorksBotPageDto extends pageOf(WorksBotDto, 'WorksBotPageBase') {}
