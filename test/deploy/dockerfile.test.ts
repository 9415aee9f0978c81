/**
 * deploy/Dockerfile, checked offline (no Docker engine here): pinned Node LTS base images, a
 * build stage and a run stage that holds only the bundle (with its dependencies, no node_modules)
 * and what package.json `files` ships, a numeric non-root USER the Deployment agrees with, and
 * `rollout-doctor serve` as the entrypoint.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEPLOY_DIR, findObject, readObjects, REPO } from './helpers.js';

interface Instruction {
  keyword: string;
  args: string;
}

interface Stage {
  from: string;
  name?: string;
  instructions: Instruction[];
}

/** Instructions with continuation lines joined and comments dropped, grouped by FROM. */
function parseDockerfile(text: string): Stage[] {
  const logical: string[] = [];
  let current = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (current === '' && (line === '' || line.startsWith('#'))) continue;
    if (line.startsWith('#')) continue;
    if (line.endsWith('\\')) {
      current += `${line.slice(0, -1)} `;
      continue;
    }
    logical.push(current + line);
    current = '';
  }
  const stages: Stage[] = [];
  for (const line of logical) {
    const [keyword = '', ...rest] = line.split(/\s+/);
    const args = rest.join(' ');
    if (keyword.toUpperCase() === 'FROM') {
      const match = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args);
      stages.push({ from: match?.[1] ?? args, name: match?.[2], instructions: [] });
      continue;
    }
    if (stages.length === 0) {
      if (keyword.toUpperCase() === 'ARG') continue;
      throw new Error(`instruction before FROM: ${line}`);
    }
    stages.at(-1)!.instructions.push({ keyword: keyword.toUpperCase(), args });
  }
  return stages;
}

const dockerfile = readFileSync(path.join(DEPLOY_DIR, 'Dockerfile'), 'utf8');
const stages = parseDockerfile(dockerfile);
const final = stages.at(-1)!;
const PACKAGE = JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as {
  bin: Record<string, string>;
  files: string[];
  scripts: Record<string, string>;
  dependencies: Record<string, string>;
};

function all(stage: Stage, keyword: string): string[] {
  return stage.instructions.filter((i) => i.keyword === keyword).map((i) => i.args);
}

/** COPY arguments: sources and destination, with --from and other flags split off. */
function copies(stage: Stage): { from?: string; sources: string[]; destination: string }[] {
  return all(stage, 'COPY').map((args) => {
    const words = args.split(/\s+/);
    const flags = words.filter((w) => w.startsWith('--'));
    const paths = words.filter((w) => !w.startsWith('--'));
    const from = flags.find((f) => f.startsWith('--from='))?.slice('--from='.length);
    return { from, sources: paths.slice(0, -1), destination: paths.at(-1)! };
  });
}

describe('deploy/Dockerfile', () => {
  it('builds in one stage and runs in another', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const build = stages.find((s) => s.name && copies(final).some((c) => c.from === s.name));
    expect(build, 'the run stage copies nothing from a build stage').toBeDefined();
    expect(all(build!, 'RUN').some((r) => r.includes('npm run build'))).toBe(true);
  });

  it('pins every base image by an exact Node LTS version tag and a digest', () => {
    const stageNames = new Set(stages.flatMap((s) => (s.name ? [s.name] : [])));
    for (const stage of stages.filter((s) => !stageNames.has(s.from))) {
      const match = /^(?:docker\.io\/library\/)?node:(\d+)\.(\d+)\.(\d+)(-[a-z0-9.-]+)?@sha256:[0-9a-f]{64}$/.exec(stage.from);
      expect(match, `${stage.from}: expected node:<major.minor.patch>[-variant]@sha256:<digest>`).not.toBeNull();
      const major = Number(match![1]);
      expect(major, 'Node 22 or a later LTS').toBeGreaterThanOrEqual(22);
      expect(major % 2, 'LTS releases are even majors').toBe(0);
    }
  });

  it('runs as a numeric non-root user, the one the Deployment sets', () => {
    const users = all(final, 'USER');
    expect(users.length).toBeGreaterThan(0);
    const [uid, gid] = users.at(-1)!.split(':').map(Number);
    expect(uid).toBeGreaterThan(0);
    const deployment = findObject(readObjects(path.join(DEPLOY_DIR, 'deployment.yaml')), 'Deployment', 'rollout-doctor') as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    const context = deployment['spec'].template.spec.securityContext;
    expect(context.runAsUser).toBe(uid);
    if (gid !== undefined && !Number.isNaN(gid)) expect(context.runAsGroup).toBe(gid);
  });

  it('installs nothing in the run stage (the bundle holds the dependencies), with no TypeScript at run time', () => {
    expect(all(final, 'RUN').filter((r) => /\bnpm\b/.test(r))).toEqual([]);
    // `prepare` builds on install, before the sources are copied: the build stage skips it.
    for (const stage of stages) for (const install of all(stage, 'RUN').filter((r) => /\bnpm ci\b/.test(r))) expect(install).toContain('--ignore-scripts');
    const runStage = final.instructions.map((i) => `${i.keyword} ${i.args}`).join('\n');
    for (const loader of ['tsx', 'ts-node', '--import', '--loader', '--experimental-strip-types', 'typescript']) {
      expect(runStage, `the run stage mentions ${loader}`).not.toContain(loader);
    }
    for (const copy of copies(final).filter((c) => c.from)) {
      expect(copy.sources.every((s) => /\/dist\/?$/.test(s)), `COPY --from=${copy.from} ${copy.sources.join(' ')}: only compiled JavaScript`).toBe(true);
    }
    // What --omit=dev leaves out must include every TypeScript tool.
    expect(Object.keys(PACKAGE.dependencies).filter((d) => ['tsx', 'ts-node', 'typescript'].includes(d))).toEqual([]);
  });

  it('ships exactly what package.json `files` lists, and no TypeScript source', () => {
    const fromContext = copies(final).filter((c) => !c.from).flatMap((c) => c.sources);
    const fromBuild = copies(final).filter((c) => c.from).flatMap((c) => c.sources.map((s) => path.basename(s)));
    const shipped = [...fromContext.filter((s) => s !== 'package.json'), ...fromBuild].sort();
    expect(shipped).toEqual([...PACKAGE.files].sort());
    for (const source of fromContext) expect(source === 'src' || source.endsWith('.ts'), `${source}: TypeScript source in the run stage`).toBe(false);
  });

  it('copies only paths that exist and that deploy/Dockerfile.dockerignore lets through', () => {
    const ignore = readFileSync(path.join(DEPLOY_DIR, 'Dockerfile.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    expect(ignore[0]).toBe('**');
    const allowed = ignore.filter((l) => l.startsWith('!')).map((l) => l.slice(1));
    for (const stage of stages) {
      for (const source of copies(stage).filter((c) => !c.from).flatMap((c) => c.sources)) {
        expect(existsSync(path.join(REPO, source)), `${source} does not exist`).toBe(true);
        expect(allowed.some((a) => source === a || source.startsWith(`${a}/`)), `${source} is excluded by Dockerfile.dockerignore`).toBe(true);
      }
    }
  });

  it('starts `rollout-doctor serve` (the package bin), listening on the port the Deployment exposes', () => {
    const entrypoint = JSON.parse(all(final, 'ENTRYPOINT').at(-1)!) as string[];
    const workdir = all(final, 'WORKDIR').at(-1)!;
    // Node flags (V8's, which NODE_OPTIONS refuses) may stand between node and the script; the bench starts its daemon with them too.
    const bin = path.posix.join(workdir, PACKAGE.bin['rollout-doctor']!);
    const script = entrypoint.indexOf(bin);
    expect(entrypoint[0]).toBe('node');
    expect(entrypoint.slice(script)).toEqual([bin, 'serve']);
    for (const flag of entrypoint.slice(1, script)) expect(flag, 'a node flag').toMatch(/^--[a-z][a-z0-9-]*(=\S+)?$/);
    const deployment = findObject(readObjects(path.join(DEPLOY_DIR, 'deployment.yaml')), 'Deployment', 'rollout-doctor') as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    const ports = deployment['spec'].template.spec.containers[0].ports.map((p: { containerPort: number }) => String(p.containerPort));
    expect(all(final, 'EXPOSE')).toEqual(ports);
    expect(all(final, 'CMD')).toEqual([]);
  });

  it('this node accepts the ENTRYPOINT\'s node flags together with the Deployment\'s NODE_OPTIONS (a refused V8 flag is a crash loop)', () => {
    const entrypoint = JSON.parse(all(final, 'ENTRYPOINT').at(-1)!) as string[];
    const script = entrypoint.indexOf(path.posix.join(all(final, 'WORKDIR').at(-1)!, PACKAGE.bin['rollout-doctor']!));
    const deployment = findObject(readObjects(path.join(DEPLOY_DIR, 'deployment.yaml')), 'Deployment', 'rollout-doctor') as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    const nodeOptions = (deployment['spec'].template.spec.containers[0].env ?? []).find((e: { name: string }) => e.name === 'NODE_OPTIONS')?.value as string | undefined;
    const run = spawnSync(process.execPath, [...entrypoint.slice(1, script), '-e', 'process.stdout.write("ran")'], { env: { ...process.env, NODE_OPTIONS: nodeOptions ?? '' }, encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.stdout).toBe('ran');
    expect(run.status).toBe(0);
  });

  it('listens on every interface of the pod (serve alone listens on 127.0.0.1), and the Deployment keeps that', () => {
    const env = Object.fromEntries(all(final, 'ENV').map((args) => args.split('=') as [string, string]));
    expect(env['ROLLOUT_DOCTOR_LISTEN']).toBe(`0.0.0.0:${all(final, 'EXPOSE')[0]}`);
    const deployment = findObject(readObjects(path.join(DEPLOY_DIR, 'deployment.yaml')), 'Deployment', 'rollout-doctor') as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    const container = deployment['spec'].template.spec.containers[0];
    const listen = (container.env ?? []).find((e: { name: string }) => e.name === 'ROLLOUT_DOCTOR_LISTEN');
    expect(listen === undefined || listen.value === env['ROLLOUT_DOCTOR_LISTEN'], 'the Deployment overrides ROLLOUT_DOCTOR_LISTEN').toBe(true);
    expect(container.args ?? []).not.toContain('--listen');
  });
});
