import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

const tracing = (env: NodeJS.ProcessEnv) => loadConfig(env, false).tracing;

function refusal(env: NodeJS.ProcessEnv): string {
  try {
    loadConfig(env, false);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error(`expected ${JSON.stringify(env)} to be refused`);
}

describe('tracing configuration (OTEL_* variables)', () => {
  it('is off without them, and with OTEL_SDK_DISABLED=true or OTEL_TRACES_EXPORTER=none whatever else is set', () => {
    expect(tracing({})).toBeUndefined();
    expect(tracing({ OTEL_SERVICE_NAME: 'x', OTEL_RESOURCE_ATTRIBUTES: 'a=b', OTEL_TRACES_SAMPLER: 'always_on' })).toBeUndefined();
    expect(tracing({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_SDK_DISABLED: 'TRUE' })).toBeUndefined();
    expect(tracing({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_TRACES_EXPORTER: 'none' })).toBeUndefined();
  });

  it('is on with an OTLP endpoint, which gets /v1/traces appended; a traces endpoint is used as it is', () => {
    expect(tracing({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://localhost:6006/' })).toEqual({
      exporters: ['otlp'],
      otlpEndpoint: 'http://localhost:6006/v1/traces',
      otlpHeaders: {},
      serviceName: 'agent-progress-gateway',
      resourceAttributes: {},
      sampler: 'parentbased_always_on',
      samplerRatio: 1,
    });
    expect(tracing({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://b/custom/path' })?.otlpEndpoint).toBe(
      'https://b/custom/path',
    );
    expect(tracing({ OTEL_SDK_DISABLED: 'false', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://b:4318/v1/traces' })?.exporters).toEqual(['otlp']);
  });

  it('is on with OTEL_TRACES_EXPORTER alone (OTLP to the default endpoint, or the console)', () => {
    expect(tracing({ OTEL_TRACES_EXPORTER: 'otlp' })).toMatchObject({ exporters: ['otlp'], otlpEndpoint: 'http://localhost:4318/v1/traces' });
    expect(tracing({ OTEL_TRACES_EXPORTER: 'console, otlp,console' })?.exporters).toEqual(['console', 'otlp']);
  });

  it('reads headers, the service name, resource attributes and the sampler', () => {
    const config = tracing({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'https://app.phoenix.arize.com',
      OTEL_EXPORTER_OTLP_HEADERS: 'api_key=secret%3D%3D, x-team = ops',
      OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=prod,service.name=from-resource',
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: '0.25',
    });
    expect(config).toMatchObject({
      otlpHeaders: { api_key: 'secret==', 'x-team': 'ops' },
      serviceName: 'from-resource',
      resourceAttributes: { 'deployment.environment': 'prod', 'service.name': 'from-resource' },
      sampler: 'parentbased_traceidratio',
      samplerRatio: 0.25,
    });
    expect(tracing({ OTEL_TRACES_EXPORTER: 'console', OTEL_SERVICE_NAME: 'named', OTEL_RESOURCE_ATTRIBUTES: 'service.name=other' })?.serviceName).toBe('named');
    expect(tracing({ OTEL_TRACES_EXPORTER: 'console', OTEL_EXPORTER_OTLP_HEADERS: 'a=1', OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'b=2' })?.otlpHeaders).toEqual({ b: '2' });
  });

  it('refuses what it cannot honour, naming the variable, without echoing header values', () => {
    expect(refusal({ OTEL_TRACES_EXPORTER: 'zipkin' })).toMatch(/^OTEL_TRACES_EXPORTER /);
    expect(refusal({ OTEL_EXPORTER_OTLP_ENDPOINT: 'not a url' })).toMatch(/^OTEL_EXPORTER_OTLP_ENDPOINT /);
    expect(refusal({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4317', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' })).toMatch(/^OTEL_EXPORTER_OTLP_PROTOCOL .*http\/protobuf/);
    expect(refusal({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json' })).toMatch(/^OTEL_EXPORTER_OTLP_TRACES_PROTOCOL /);
    expect(refusal({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_TRACES_SAMPLER: 'sometimes' })).toMatch(/^OTEL_TRACES_SAMPLER /);
    expect(refusal({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '2' })).toMatch(/^OTEL_TRACES_SAMPLER_ARG /);
    const message = refusal({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_HEADERS: 'api_key%ZZtop-secret' });
    expect(message).toMatch(/^OTEL_EXPORTER_OTLP_HEADERS /);
    expect(message).not.toContain('top-secret');
    // Without tracing on, the OTLP details are not looked at.
    expect(tracing({ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' })).toBeUndefined();
  });
});
