export * from './pairing.module';
export * from './pairing.service';
export * from './dto/pairing.dto';
export * from './auth/auth.module';
export * from './auth/agent-auth.guard';
export * from './auth/agent-auth.service';
export * from './auth/agent-principal';
