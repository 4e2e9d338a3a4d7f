import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { DEFAULT_SOCKETS, socketCandidates } from '../../../common/collect/containers/discover.ts';
import { codeOf } from '../../harness.helper.ts';

const test = suite('collect/containers/discover');

test('DOCKER_HOST (unix://) is the only socket tried when set, before CONTAINER_HOST', () => {
  assert.equal(socketCandidates({ DOCKER_HOST: 'unix:///tmp/d.sock', CONTAINER_HOST: 'unix:///tmp/p.sock' }), [{ path: '/tmp/d.sock', from: 'DOCKER_HOST' }]);
  assert.equal(socketCandidates({ CONTAINER_HOST: 'unix:///run/user/1000/podman/podman.sock' }), [{ path: '/run/user/1000/podman/podman.sock', from: 'CONTAINER_HOST' }]);
  assert.equal(socketCandidates({ DOCKER_HOST: '', CONTAINER_HOST: 'unix:///p.sock' })[0]!.from, 'CONTAINER_HOST');
});

test('CONTAINER_HOST=unix://run/podman/podman.sock (two slashes, as podman(1) writes it) is /run/podman/podman.sock, as Podman reads it', () => {
  assert.equal(socketCandidates({ CONTAINER_HOST: 'unix://run/podman/podman.sock' }), [{ path: '/run/podman/podman.sock', from: 'CONTAINER_HOST' }]);
  assert.is(codeOf(() => socketCandidates({ CONTAINER_HOST: 'unix://' })), 'ENGINE_UNREACHABLE');
});

test('without either: the default Docker and Podman sockets, then the rootless one under XDG_RUNTIME_DIR', () => {
  assert.equal(socketCandidates({}).map((c) => c.path), ['/var/run/docker.sock', '/run/podman/podman.sock']);
  assert.equal(socketCandidates({ XDG_RUNTIME_DIR: '/run/user/1000' }).map((c) => c.path), [...DEFAULT_SOCKETS.map((c) => c.path), '/run/user/1000/podman/podman.sock']);
});

test('tcp:// and ssh:// engines are refused with a reason, not tried', () => {
  assert.is(codeOf(() => socketCandidates({ DOCKER_HOST: 'tcp://10.0.0.5:2375' })), 'ENGINE_UNREACHABLE');
  assert.is(codeOf(() => socketCandidates({ CONTAINER_HOST: 'ssh://core@host/run/podman/podman.sock' })), 'ENGINE_UNREACHABLE');
  assert.is(codeOf(() => socketCandidates({ DOCKER_HOST: 'unix://relative.sock' })), 'ENGINE_UNREACHABLE');
  try {
    socketCandidates({ DOCKER_HOST: 'tcp://10.0.0.5:2375' });
  } catch (err) {
    assert.match((err as Error).message, /only unix:\/\/ sockets/);
  }
});

test.run();
