/** One housekeeping run as recorded (the admin overview shows the last one). */
export interface CleanupRun {
  instance: string;
  startedAt: Date;
  finishedAt: Date;
  results: Record<string, number>;
}
