export { PUBLIC_DIR, webRoutes } from './routes';
