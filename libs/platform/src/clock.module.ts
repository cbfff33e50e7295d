import { Global, Module } from '@nestjs/common';
import { Clock, SystemClock } from '@app/core';

/** The time port, bound to wall-clock time: infrastructure every feature may ask, hence global. */
@Global()
@Module({ providers: [{ provide: Clock, useClass: SystemClock }], exports: [Clock] })
export class ClockModule {}
