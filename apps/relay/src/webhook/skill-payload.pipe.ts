import { Injectable, PipeTransform } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { ValidationError } from '@app/core';
import { validationExceptionFactory } from '@app/platform';
import { SkillPayloadDto } from './dto/skill-payload.dto';

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * The part of a SkillPayload the relay relies on, and nothing else: validating the whole payload would have
 * class-transformer copy every nested field Kakao sends, on the busiest path of the relay.
 */
function projection(body: Record<string, unknown>): Record<string, unknown> {
  const request = body.userRequest;
  const user = isObject(request) ? request.user : undefined;
  return {
    userRequest: isObject(request)
      ? {
          utterance: request.utterance,
          callbackUrl: request.callbackUrl,
          // Only its being an object is checked; its keys never reach class-transformer (a key named
          // "constructor" would make it try to construct one).
          user: isObject(user)
            ? { id: user.id, properties: isObject(user.properties) ? {} : user.properties }
            : user,
        }
      : request,
    bot: isObject(body.bot) ? { id: body.bot.id } : body.bot,
  };
}

/**
 * Validates a Kakao SkillPayload against `SkillPayloadDto` (class-validator) and hands the original object on
 * untouched: it is stored and forwarded exactly as received.
 */
@Injectable()
export class SkillPayloadPipe implements PipeTransform<unknown, Record<string, unknown>> {
  transform(body: unknown): Record<string, unknown> {
    if (!isObject(body)) throw new ValidationError('The body must be a Kakao SkillPayload object.');
    const errors = validateSync(plainToInstance(SkillPayloadDto, projection(body)), {
      forbidUnknownValues: false,
      stopAtFirstError: true,
    });
    if (errors.length > 0) throw validationExceptionFactory(errors);
    return body;
  }
}
