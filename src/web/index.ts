export { PAGE_CSP, pageCsp } from './csp';
export { PUBLIC_DIR, webRoutes } from './routes';
