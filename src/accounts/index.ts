export { AccountService, type AccountServiceDeps, type LoginResult, type OwnDevice } from './AccountService';
export { hashPassword, verifyPassword } from './passwords';
export { fleetSessions } from './FleetSessions';
