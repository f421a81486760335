export { accountRoutes } from './accountRoutes';
export { clusterRoutes } from './clusterRoutes';
export { bearerToken, requireAuth, type Authenticate } from './auth';
export { devRoutes } from './devRoutes';
export { errorHandler, notFoundHandler } from './errorHandler';
export { healthRoutes } from './healthRoutes';
export { crossOrigin, originCheck } from './originCheck';
export { rateLimitPerIp } from './rateLimit';
export { validate } from './validate';
