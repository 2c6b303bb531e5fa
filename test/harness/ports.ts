export { freePort, onFreePorts } from '../../core/host/ports';
