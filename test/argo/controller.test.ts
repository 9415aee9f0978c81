/**
 * The controller's version and log level as src/argo/controller.ts reads them, against the lines and
 * image references upstream writes (cmd/rollouts-controller/main.go, utils/version/version.go, the
 * release workflow's image tags, logrus' text and JSON formatters).
 */
import { describe, expect, it } from 'vitest';
import { controllerLogLevel, imageTag, isAtLeast, logsInfoLines, resolveControllerVersion, versionFromBuild, versionFromImage } from '../../src/argo/controller.js';
import { parseLogLine } from '../../src/argo/controller-log.js';

describe('controller version', () => {
  it.each([
    ['quay.io/argoproj/argo-rollouts:v1.9.1', 'v1.9.1'],
    ['quay.io/argoproj/argo-rollouts:v1.10.0-rc1', 'v1.10.0-rc1'],
    ['registry.local:5000/argoproj/argo-rollouts:v1.8.3', 'v1.8.3'],
    ['quay.io/argoproj/argo-rollouts:v1.7.2@sha256:4ccd4b6e8e5c0fa1c6d3f9a1e2b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5', 'v1.7.2'],
    ['quay.io/argoproj/argo-rollouts:1.8.4', 'v1.8.4'],
    ['quay.io/argoproj/argo-rollouts:latest', undefined],
    ['quay.io/argoproj/argo-rollouts@sha256:4ccd4b6e8e5c0fa1c6d3f9a1e2b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5', undefined],
    ['quay.io/argoproj/argo-rollouts', undefined],
    ['registry.local:5000/argo-rollouts', undefined],
  ])('image %s -> %s', (image, version) => {
    expect(versionFromImage(image)).toBe(version);
  });

  it('the tag is after the last path segment, not a registry port', () => {
    expect(imageTag('registry.local:5000/argoproj/argo-rollouts')).toBeUndefined();
    expect(imageTag('registry.local:5000/argoproj/argo-rollouts:v1.9.1')).toBe('v1.9.1');
  });

  it.each([
    ['v1.9.1+b6bd3bc', 'v1.9.1'],
    ['v1.10.0-rc1+d1c2967', 'v1.10.0-rc1'],
    ['v1.8.4+55e89dd.dirty', 'v1.8.4'],
    ['v1.7.2', 'v1.7.2'],
    ['v1.2.0+9f8d111', undefined],
    ['v1.2.0+unknown', undefined],
    ['99.99.99', undefined],
  ])('starting line version %s -> %s (GetVersion: "v" + VERSION + "+" + commit; VERSION 1.2.0 = a development build)', (field, version) => {
    expect(versionFromBuild(field)).toBe(version);
  });

  it('reads both starting lines, text and JSON (the JSON version is the marshalled Version struct)', () => {
    const v17 = parseLogLine('time="2026-07-10T09:00:00Z" level=info msg="Argo Rollouts starting" version=v1.8.4+55e89dd');
    const v19 = parseLogLine('time="2026-07-10T09:00:00Z" level=info msg="Argo Rollouts controller starting" healthzPort=8080 instanceID= metricsPort=8090 namespace= version=v1.9.1+b6bd3bc');
    const json = parseLogLine(
      '{"healthzPort":8080,"instanceID":"","level":"info","metricsPort":8090,"msg":"Argo Rollouts controller starting","namespace":"","time":"2026-07-10T09:00:00Z","version":{"Version":"v1.9.1+b6bd3bc","BuildDate":"2026-07-06T18:02:11Z","GitCommit":"b6bd3bcf8f60d717a98763d26acc983db7f97cb0","GitTag":"","GitTreeState":"clean","GoVersion":"go1.24.4","Compiler":"gc","Platform":"linux/amd64"}}',
    );
    expect(resolveControllerVersion({ startingLine: v17 })).toMatchObject({ version: 'v1.8.4', source: 'starting-line', startingLine: 'v1.8.4+55e89dd' });
    expect(resolveControllerVersion({ startingLine: v19 })).toMatchObject({ version: 'v1.9.1', source: 'starting-line' });
    expect(resolveControllerVersion({ startingLine: json })).toMatchObject({ version: 'v1.9.1', source: 'starting-line', startingLine: 'v1.9.1+b6bd3bc' });
  });

  it('the running binary wins over the image tag, and says so when they differ', () => {
    const line = parseLogLine('time="2026-07-10T09:00:00Z" level=info msg="Argo Rollouts starting" version=v1.8.4+55e89dd');
    expect(resolveControllerVersion({ startingLine: line, image: 'quay.io/argoproj/argo-rollouts:v1.8.3' })).toMatchObject({
      version: 'v1.8.4',
      note: 'the image tag says v1.8.3; the running binary says v1.8.4',
    });
  });

  it('a development build or an untagged image falls back to the image tag, then to the newest release (v1.9.1)', () => {
    const dev = parseLogLine('time="2026-07-10T09:00:00Z" level=info msg="Argo Rollouts controller starting" version=v1.2.0+9f8d111');
    expect(resolveControllerVersion({ startingLine: dev, image: 'quay.io/argoproj/argo-rollouts:v1.9.0' })).toMatchObject({ version: 'v1.9.0', source: 'image' });
    expect(resolveControllerVersion({ image: 'quay.io/argoproj/argo-rollouts:latest' })).toMatchObject({ version: 'v1.9.1', source: 'newest-released' });
    expect(resolveControllerVersion({})).toMatchObject({ version: 'v1.9.1', source: 'newest-released' });
  });

  it('compares versions by major.minor.patch (a pre-release has its version\'s features)', () => {
    expect(isAtLeast('v1.8.0-rc1', '1.8.0')).toBe(true);
    expect(isAtLeast('v1.7.2', '1.8.0')).toBe(false);
    expect(isAtLeast('v1.10.0-rc1', '1.8.0')).toBe(true);
    expect(isAtLeast('v2.0.0', '1.8.0')).toBe(true);
  });
});

describe('controller log level', () => {
  it.each([
    [['--loglevel=warn'], 'warn', false],
    [['--loglevel', 'error'], 'error', false],
    [['--healthzPort=8080', '--loglevel=info', '--logformat=text'], 'info', true],
    [['/bin/rollouts-controller'], 'info', true],
    [['--loglevel=WARNING'], 'warning', false],
    [['--loglevel=debug'], 'debug', true],
  ])('%j -> %s (info lines written: %s)', (argv, level, writesInfo) => {
    expect(controllerLogLevel(argv)).toBe(level);
    expect(logsInfoLines(level)).toBe(writesInfo);
  });
});
