export { errorHandler, notFoundHandler } from './errorHandler';
export { healthRoutes } from './healthRoutes';
