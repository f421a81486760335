export { devRoutes } from './devRoutes';
export { errorHandler, notFoundHandler } from './errorHandler';
export { healthRoutes } from './healthRoutes';
export { originCheck } from './originCheck';
