import { describe, expect, it } from 'vitest';
import type { SavedModel } from '../types';
import {
  bodyOf, canEdit, emptyForm, estimateText, endpointAfterProvider, fmtCost, formField, formOf, keyText, limitsText, presetEndpoint, priceText, providersFor, stepText,
} from './models';

const saved: SavedModel = {
  name: 'fast',
  provider: 'openai',
  endpoint: 'https://api.openai.com/v1/chat/completions',
  model_name: 'gpt-4o-mini',
  is_default: true,
  api_key_set: true,
  api_key_last4: 'x9Qz',
  max_in_flight: 8,
  requests_per_minute: null,
  tokens_per_minute: 200000,
  price_per_mtok: { input: 0.15, output: 0.6, cached: 0.075 },
  currency: 'USD',
};

describe('provider presets', () => {
  it('fills the usual endpoint of each provider, the embeddings one for embedding models', () => {
    expect(presetEndpoint('llm', 'anthropic')).toBe('https://api.anthropic.com/v1/messages');
    expect(presetEndpoint('llm', 'ollama')).toBe('http://localhost:11434/api/chat');
    expect(presetEndpoint('embedding', 'gemini')).toBe('https://generativelanguage.googleapis.com/v1beta/openai/embeddings');
    expect(providersFor('embedding')).not.toContain('anthropic');
  });

  it('replaces a preset or an empty endpoint, keeps one of the user\'s own', () => {
    expect(endpointAfterProvider('llm', '', 'gemini')).toBe('https://generativelanguage.googleapis.com/v1beta/openai/chat/completions');
    expect(endpointAfterProvider('llm', presetEndpoint('llm', 'openai'), 'ollama')).toBe('http://localhost:11434/api/chat');
    expect(endpointAfterProvider('llm', 'http://127.0.0.1:9999/v1/chat/completions', 'ollama')).toBe('http://127.0.0.1:9999/v1/chat/completions');
  });
});

describe('form <-> body', () => {
  it('a saved model goes back without api_key, so the stored key stays', () => {
    const r = bodyOf(formOf(saved), 'llm');
    expect(r).toEqual({
      body: {
        name: 'fast', provider: 'openai', endpoint: saved.endpoint, model_name: 'gpt-4o-mini', is_default: true,
        max_in_flight: 8, tokens_per_minute: 200000, price_per_mtok: { input: 0.15, output: 0.6, cached: 0.075 }, currency: 'USD',
      },
    });
    expect(formOf(saved).api_key).toBe('');
  });

  it('a typed key is sent; "remove" sends an empty one', () => {
    const f = { ...formOf(saved), api_key: 'sk-new' };
    expect('body' in bodyOf(f, 'llm') && bodyOf(f, 'llm')).toMatchObject({ body: { api_key: 'sk-new' } });
    const g = { ...formOf(saved), api_key: 'ignored', remove_key: true };
    expect(bodyOf(g, 'llm')).toMatchObject({ body: { api_key: '' } });
  });

  it('reports missing fields, bad numbers and a half price', () => {
    const f = { ...emptyForm('llm'), max_in_flight: '-1', price_input: '1' };
    const r = bodyOf(f, 'llm');
    expect('errors' in r && r.errors).toMatchObject({ name: 'Required', model_name: 'Required', price_output: 'Needed with a price' });
    expect('errors' in r && r.errors.max_in_flight).toMatch(/whole number/);
  });

  it('no price and no limits: none sent', () => {
    const f = { ...emptyForm('embedding'), name: 'e', model_name: 'm', dimensions: '256' };
    expect(bodyOf(f, 'embedding')).toEqual({
      body: { name: 'e', provider: 'openai', endpoint: 'https://api.openai.com/v1/embeddings', model_name: 'm', is_default: false, dimensions: 256 },
    });
  });

  it('maps the server\'s field names to the dialog\'s', () => {
    expect(formField('endpoint')).toBe('endpoint');
    expect(formField('price_per_mtok.output')).toBe('price_output');
    expect(formField('blocks[0]')).toBeUndefined();
  });
});

describe('display', () => {
  it('key, limits and price read briefly', () => {
    expect(keyText(saved)).toBe('key ••••x9Qz');
    expect(keyText({ ...saved, api_key_set: false, api_key_last4: null })).toBe('no key');
    expect(limitsText(saved)).toBe('8 in flight · 200k tokens/min');
    expect(limitsText({ ...saved, max_in_flight: null, tokens_per_minute: null })).toBe('no limits');
    expect(priceText(saved)).toBe('in 0.15 · out 0.6 · cached 0.075 USD / 1M tokens');
  });

  it('costs: dollars with a sign, other currencies by code', () => {
    expect(fmtCost({ amount: 0.0123, currency: 'USD' })).toBe('$0.0123');
    expect(fmtCost({ amount: 0.0123, currency: 'EUR' })).toBe('0.0123 EUR');
    expect(fmtCost({ amount: 12.5, currency: 'USD' })).toBe('$12.50');
    expect(fmtCost({ amount: 0, currency: 'USD' })).toBe('$0.00');
  });

  it('an estimate names executions, calls, tokens and the most it may cost', () => {
    expect(estimateText({ executions: 12, llm_calls: 24, max_tokens: 48000, cost: { amount: 0.012, currency: 'USD' } })).toBe(
      '≈ 12 executions, 24 LLM calls, up to 48,000 tokens, up to $0.0120',
    );
    expect(estimateText({ executions: 1, llm_calls: 1, max_tokens: 10, cost: null })).toBe('≈ 1 execution, 1 LLM call, up to 10 tokens, cost unknown');
    expect(estimateText({})).toBe('');
  });

  it('a rate-limit wait is told apart from a step number', () => {
    expect(stepText(3)).toEqual({ text: 'step 3', waiting: false });
    expect(stepText('rate limited, retrying in 4s')).toEqual({ text: 'rate limited, retrying in 4s', waiting: true });
    expect(stepText(null)).toBeNull();
  });
});

describe('who may edit', () => {
  const member = { kind: 'user' as const, user: { name: 'bob', role: 'member' as const } };
  const admin = { kind: 'user' as const, user: { name: 'ann', role: 'admin' as const } };
  it('admins edit every model; members only their own where the server has scopes', () => {
    expect(canEdit(saved, admin)).toBe(true);
    expect(canEdit(saved, member)).toBe(false);
    expect(canEdit({ ...saved, scope: 'global' }, member)).toBe(false);
    expect(canEdit({ ...saved, scope: 'own' }, member)).toBe(true);
    expect(canEdit(saved, { kind: 'off' })).toBe(true);
  });
});
