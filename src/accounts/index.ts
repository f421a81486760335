export { AccountService, type AccountServiceDeps, type LoginResult } from './AccountService';
export { hashPassword, verifyPassword } from './passwords';
export { fleetSessions } from './FleetSessions';
