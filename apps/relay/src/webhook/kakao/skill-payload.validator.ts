import { validateSync } from 'class-validator';
import { KakaoSkillPayload, ValidationError } from '@app/core';
import { validationExceptionFactory } from '@app/platform';
import {
  BotDto,
  KakaoUserDto,
  KakaoUserPropertiesDto,
  SkillPayloadDto,
  UserRequestDto,
} from './dto/skill-payload.dto';

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * The part of a SkillPayload the relay relies on, and nothing else, as `SkillPayloadDto` instances built here
 * (what class-transformer's `plainToInstance` would build from this projection, without its cost on the
 * busiest path of the relay): validating the whole payload would copy every nested field Kakao sends.
 */
function projection(body: Record<string, unknown>): SkillPayloadDto {
  const request = body.userRequest;
  const user = isObject(request) ? request.user : undefined;
  const dto = new SkillPayloadDto();
  dto.userRequest = (
    isObject(request)
      ? Object.assign(new UserRequestDto(), {
          utterance: request.utterance,
          callbackUrl: request.callbackUrl,
          user: isObject(user)
            ? Object.assign(new KakaoUserDto(), {
                id: user.id,
                // Its being an object, and the one key the relay reads; every other key is never looked at.
                properties: isObject(user.properties)
                  ? Object.assign(new KakaoUserPropertiesDto(), {
                      plusfriendUserKey: user.properties.plusfriendUserKey,
                    })
                  : user.properties,
              })
            : user,
        })
      : request
  ) as UserRequestDto;
  dto.bot = (isObject(body.bot) ? Object.assign(new BotDto(), { id: body.bot.id }) : body.bot) as BotDto;
  return dto;
}

/**
 * Validates a Kakao SkillPayload against `SkillPayloadDto` (class-validator) and returns the original object
 * untouched: it is stored and forwarded exactly as received. Throws `ValidationError`.
 */
export function validateSkillPayload(body: unknown): KakaoSkillPayload {
  if (!isObject(body)) throw new ValidationError('The body must be a Kakao SkillPayload object.');
  const errors = validateSync(projection(body), {
    forbidUnknownValues: false,
    stopAtFirstError: true,
  });
  if (errors.length > 0) throw validationExceptionFactory(errors);
  return body as KakaoSkillPayload;
}
