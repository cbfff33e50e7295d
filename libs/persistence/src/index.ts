export * from './entities';
export * from './repositories';
export * from './database';
export * from './persistence.module';
export { MIGRATIONS } from './migrations';
export * from './availability';
export * from './sql';
