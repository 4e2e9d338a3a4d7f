// A real Docker Engine for the tests: the benchmarks use the same one (scripts/lib/dockerd.ts).
export { dockerdMissing, importBusybox, IMAGE, startDockerd, type Dockerd } from '../../scripts/lib/dockerd.ts';
