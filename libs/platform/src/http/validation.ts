import {
  ValidationError as ClassValidatorError,
  ValidationPipe,
  ValidationPipeOptions,
} from '@nestjs/common';
import { ErrorDetail, ValidationError } from '@app/core';

function flatten(errors: ClassValidatorError[], parent = ''): ErrorDetail[] {
  const out: ErrorDetail[] = [];
  for (const error of errors) {
    const field = parent ? `${parent}.${error.property}` : error.property;
    for (const message of Object.values(error.constraints ?? {})) out.push({ field, message });
    if (error.children?.length) out.push(...flatten(error.children, field));
  }
  return out;
}

/** class-validator failures as 400 VALIDATION_ERROR with one detail per broken rule. */
export function validationExceptionFactory(errors: ClassValidatorError[]): ValidationError {
  const details = flatten(errors);
  const first = details[0];
  return new ValidationError(
    first ? `${first.field}: ${first.message}` : 'The request is not valid.',
    details.length ? details : undefined,
  );
}

export function createValidationPipe(options: ValidationPipeOptions = {}): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    forbidUnknownValues: true,
    stopAtFirstError: false,
    exceptionFactory: validationExceptionFactory,
    ...options,
  });
}
