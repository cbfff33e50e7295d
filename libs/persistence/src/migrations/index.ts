import { InitialSchema1795000000000 } from './1795000000000-InitialSchema';

/** Every migration, in order. New ones are appended here (and generated with `npm run migration:create`). */
export const MIGRATIONS = [InitialSchema1795000000000];
