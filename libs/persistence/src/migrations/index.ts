import { InitialSchema1795000000000 } from './1795000000000-InitialSchema';
import { OutboundClaim1795000000001 } from './1795000000001-OutboundClaim';
import { CleanupRuns1795000000002 } from './1795000000002-CleanupRuns';
import { DeliveryMarks1795000000003 } from './1795000000003-DeliveryMarks';
import { Channels1795000000004 } from './1795000000004-Channels';
import { WorksBots1795000000005 } from './1795000000005-WorksBots';
import { WorksSends1795000000006 } from './1795000000006-WorksSends';
import { WorksCallbacks1795000000007 } from './1795000000007-WorksCallbacks';
import { ApiKeys1795000000008 } from './1795000000008-ApiKeys';
import { PushDelivery1795000000009 } from './1795000000009-PushDelivery';
import { BotBindings1795000000010 } from './1795000000010-BotBindings';
import { HeldAnswers1795000000011 } from './1795000000011-HeldAnswers';
import { Tunnels1795000000012 } from './1795000000012-Tunnels';
import { PushBodiesOnce1795000000013 } from './1795000000013-PushBodiesOnce';
import { PushDeliveryKeys1795000000014 } from './1795000000014-PushDeliveryKeys';

/** Every migration, in order. New ones are appended here (and generated with `npm run migration:create`). */
export const MIGRATIONS = [
  InitialSchema1795000000000,
  OutboundClaim1795000000001,
  CleanupRuns1795000000002,
  DeliveryMarks1795000000003,
  Channels1795000000004,
  WorksBots1795000000005,
  WorksSends1795000000006,
  WorksCallbacks1795000000007,
  ApiKeys1795000000008,
  PushDelivery1795000000009,
  BotBindings1795000000010,
  HeldAnswers1795000000011,
  Tunnels1795000000012,
  PushBodiesOnce1795000000013,
  PushDeliveryKeys1795000000014,
];
