export * from './jobs.module';
export * from './cleanup/cleanup.service';
