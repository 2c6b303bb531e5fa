export { freePort } from '../../core/host/ports';
