export * from './errors';
export * from './tokens';
export * from './pairing-code';
export * from './kakao';
export * from './skill-merge';
export * from './micro-batcher';
export * from './uuid-v7';
export * from './callback-url-policy';
