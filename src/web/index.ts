export { PAGE_CSP } from './csp';
export { PUBLIC_DIR, webRoutes } from './routes';
