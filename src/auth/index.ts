export { fromThisHost, isLoopback, originAllowed, resolveDevMode } from './devMode';
export { claimsSchema, mayJoinRoom, TokenService, type Claims, type IssueClaims } from './TokenService';
export { API_TOKEN_MAX_SECONDS, ApiKeys, type ApiCaller } from './ApiKeys';
export { secretEquals } from './secretEquals';
