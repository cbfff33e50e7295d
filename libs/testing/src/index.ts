export * from './test-config';
export * from './test-state';
export * from './sse-client';
export * from './kakao-fixtures';
export * from './flows';
export * from './fake-kakao';
export * from './error-body';
