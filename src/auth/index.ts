export { fromThisHost, isLoopback, originAllowed, resolveDevMode } from './devMode';
export { claimsSchema, mayJoinRoom, TokenService, type Claims, type IssueClaims } from './TokenService';
export { secretEquals } from './secretEquals';
