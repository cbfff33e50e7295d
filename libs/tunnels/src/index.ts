export * from './tunnel-frames';
export * from './tunnel-hub';
export * from './tunnel.service';
export * from './tunnels.module';
export * from './tunnel-rate-window';
