'use strict';
// Browser tests of the Models page (SPEC §9) and of what models show
// elsewhere: the builder's model dropdown, a job's cost, the generator's
// estimate, a rate-limited job. Called by e2e.cjs with the signed-in page
// and its helpers; the models it adds are deleted again.
//
// The cost, estimate and rate-limit tests are a group of their own: each
// runs only when the server (or the mock LLM) shows the feature, else it
// is reported as skipped with the reason.

const { assert, BASE, test, skip, diag, shoot, apiCall, apiOk, waitFor } = require('./lib.cjs');

const tid = (id) => `[data-testid="${id}"]`;

// The mock LLM's base URL, from the model the stack made out of its
// settings (LLM_ENDPOINT points at the mock in the test stack).
async function mockBase() {
  const list = await apiOk('GET', '/api/llm-models');
  const m = list.find((x) => x.is_default) || list[0];
  if (!m) return null;
  const u = new URL(m.endpoint);
  return ['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname) ? u.origin : null;
}

async function mock(method, base, p, body) {
  const res = await fetch(base + p, {
    method,
    headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  assert.ok(res.ok, `mock ${method} ${p} -> ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

async function runModelTests(h) {
  const { page, go, stamp, confirmDialog, blockNode, selectNode, generateViaApi, jobEnded, dropFile, created } = h;
  const NAME = `ui-model-${stamp}`;
  const KEY = `sk-ui-${stamp}-secret-Q7z9`;
  const LAST4 = KEY.slice(-4);
  const row = (name) => page.locator(`${tid('models-llm')} ${tid('model-row')}[data-name="${name}"]`);
  const M = {}; // what later tests build on
  // Every API response the page reads, to look for the key in them.
  const seen = [];
  const onResponse = async (r) => {
    if (!r.url().startsWith(BASE + '/api/')) return;
    try {
      seen.push({ url: r.url(), body: await r.text() });
    } catch {
      /* a redirect or an aborted request has no body */
    }
  };
  page.on('response', onResponse);
  const base = await mockBase().catch(() => null);

  try {
    await test('models: the page lists the LLM and embedding models; a model is added with a key, and provider presets fill the endpoint', async () => {
      assert.ok(base, 'the stack\'s default LLM model points at the loopback mock');
      const before = await apiOk('GET', '/api/llm-models');
      M.oldDefault = (before.find((x) => x.is_default) || {}).name;
      await go('/pipelines');
      await page.locator(tid('nav-models')).click();
      await page.locator(tid('models-page')).waitFor();
      await page.locator(tid('models-embedding')).waitFor();
      if (M.oldDefault) await row(M.oldDefault).locator(tid('model-default-badge')).waitFor();
      await page.locator(`${tid('models-llm')} ${tid('model-add')}`).click();
      const dlg = page.locator(tid('model-dialog'));
      await dlg.waitFor();
      await dlg.locator(tid('model-provider')).selectOption('anthropic');
      assert.equal(await dlg.locator(tid('model-endpoint')).inputValue(), 'https://api.anthropic.com/v1/messages');
      await dlg.locator(tid('model-provider')).selectOption('gemini');
      assert.equal(await dlg.locator(tid('model-endpoint')).inputValue(), 'https://generativelanguage.googleapis.com/v1beta/openai/chat/completions');
      await dlg.locator(tid('model-provider')).selectOption('openai');
      assert.equal(await dlg.locator(tid('model-endpoint')).inputValue(), 'https://api.openai.com/v1/chat/completions');
      await dlg.locator(tid('model-name')).fill(NAME);
      await dlg.locator(tid('model-endpoint')).fill(`${base}/v1/chat/completions`);
      await dlg.locator(tid('model-model-name')).fill('mock');
      await dlg.locator(tid('model-api-key')).fill(KEY);
      await dlg.locator(tid('model-max-in-flight')).fill('4');
      await dlg.locator(tid('model-rpm')).fill('600');
      await dlg.locator(tid('model-price-input')).fill('0.5');
      await dlg.locator(tid('model-price-output')).fill('1.5');
      await shoot(page, 'models-dialog');
      await page.locator(tid('model-save')).click();
      await dlg.waitFor({ state: 'detached' });
      const r = row(NAME);
      await r.waitFor();
      assert.equal((await r.locator(tid('model-row-key')).innerText()).trim(), `key ••••${LAST4}`);
      assert.match(await r.locator(tid('model-row-limits')).innerText(), /4 in flight · 600 req\/min/);
      assert.match(await r.locator(tid('model-row-price')).innerText(), /in 0\.5 · out 1\.5 USD/);
      const m = await apiOk('GET', `/api/llm-models/${encodeURIComponent(NAME)}`);
      assert.equal(m.api_key_set, true);
      assert.equal(m.api_key_last4, LAST4);
      assert.equal(m.max_in_flight, 4);
      assert.equal(m.price_per_mtok.input, 0.5);
      assert.equal(m.price_per_mtok.output, 1.5);
      assert.ok(!m.price_per_mtok.cached, 'no cached price was given');
      assert.equal(m.currency, 'USD');
      await shoot(page, 'models');
    });
    const ADDED = 'models: the page lists the LLM and embedding models; a model is added with a key, and provider presets fill the endpoint';

    await test('models: after a reload the key is in no page and no API answer, only its last 4 characters', async () => {
      seen.length = 0;
      await page.reload();
      await row(NAME).locator(tid('model-row-key')).waitFor();
      assert.equal((await row(NAME).locator(tid('model-row-key')).innerText()).trim(), `key ••••${LAST4}`);
      await page.locator(`${tid('models-llm')} ${tid('model-row')}`).first().waitFor();
      const html = await page.content();
      assert.ok(!html.includes(KEY), 'the key is not in the page');
      assert.ok(seen.some((s) => s.url.includes('/api/llm-models')), 'the page read the models');
      for (const s of seen) assert.ok(!s.body.includes(KEY), `the key is not in the answer of ${s.url}`);
      // Opening the dialog shows that a key is stored, not the key.
      await row(NAME).locator(tid('model-edit')).click();
      const key = page.locator(`${tid('model-dialog')} ${tid('model-api-key')}`);
      await key.waitFor();
      assert.equal(await key.inputValue(), '');
      assert.equal(await key.getAttribute('placeholder'), 'stored — leave empty to keep');
      assert.ok(!(await page.content()).includes(KEY));
      await page.getByRole('button', { name: 'Cancel', exact: true }).click();
      await page.locator(tid('model-dialog')).waitFor({ state: 'detached' });
    }, [ADDED]);

    await test('models: an edit that leaves the key field empty keeps the key, and Test shows the latency', async () => {
      await row(NAME).locator(tid('model-edit')).click();
      const dlg = page.locator(tid('model-dialog'));
      await dlg.waitFor();
      await dlg.locator(tid('model-max-in-flight')).fill('5');
      await page.locator(tid('model-save')).click();
      await dlg.waitFor({ state: 'detached' });
      await waitFor(async () => /5 in flight/.test(await row(NAME).locator(tid('model-row-limits')).innerText()), { what: 'the new limit' });
      const m = await apiOk('GET', `/api/llm-models/${encodeURIComponent(NAME)}`);
      assert.equal(m.max_in_flight, 5);
      assert.equal(m.api_key_set, true);
      assert.equal(m.api_key_last4, LAST4);
      // The mock answers 401 to any other key for a moment: the test call
      // succeeds only with the key the server kept.
      await mock('POST', base, '/mock/config', { expect_key: KEY });
      try {
        await row(NAME).locator(tid('model-test')).click();
        const res = row(NAME).locator(tid('model-test-result'));
        await res.waitFor();
        assert.equal(await res.getAttribute('data-success'), 'true', await res.innerText());
        assert.match(await res.innerText(), /^OK · \d+ ms/);
      } finally {
        await mock('POST', base, '/mock/config', { expect_key: null });
      }
    }, [ADDED]);

    await test('models: a bad endpoint is refused by the server and the reason shows by the field; a taken name by the name', async () => {
      await page.locator(`${tid('models-llm')} ${tid('model-add')}`).click();
      const dlg = page.locator(tid('model-dialog'));
      await dlg.waitFor();
      await dlg.locator(tid('model-name')).fill(`${NAME}-bad`);
      await dlg.locator(tid('model-endpoint')).fill('ftp://example.com/chat');
      await dlg.locator(tid('model-model-name')).fill('mock');
      const [resp] = await Promise.all([
        page.waitForResponse((r) => r.url().endsWith('/api/llm-models') && r.request().method() === 'POST'),
        page.locator(tid('model-save')).click(),
      ]);
      assert.equal(resp.status(), 422);
      const err = dlg.locator(tid('model-field-error-endpoint'));
      await err.waitFor();
      assert.match(await err.innerText(), /endpoint/);
      await shoot(page, 'models-dialog-error');
      // Typing again clears the complaint; a taken name is a 409 by the name.
      await dlg.locator(tid('model-endpoint')).fill(`${base}/v1/chat/completions`);
      await dlg.locator(tid('model-name')).fill(NAME);
      const [r2] = await Promise.all([
        page.waitForResponse((r) => r.url().endsWith('/api/llm-models') && r.request().method() === 'POST'),
        page.locator(tid('model-save')).click(),
      ]);
      assert.equal(r2.status(), 409);
      await dlg.locator(tid('model-field-error-name')).waitFor();
      assert.match(await dlg.locator(tid('model-field-error-name')).innerText(), /already exists/);
      assert.equal(await dlg.locator(tid('model-field-error-endpoint')).count(), 0);
      await page.getByRole('button', { name: 'Cancel', exact: true }).click();
      await dlg.waitFor({ state: 'detached' });
      assert.equal((await apiCall('GET', `/api/llm-models/${encodeURIComponent(`${NAME}-bad`)}`)).status, 404);
    }, [ADDED]);

    await test('models: "Set default" moves the default badge', async () => {
      await row(NAME).locator(tid('model-make-default')).click();
      await row(NAME).locator(tid('model-default-badge')).waitFor();
      if (M.oldDefault) {
        await row(M.oldDefault).locator(tid('model-default-badge')).waitFor({ state: 'detached' });
        assert.equal(await row(M.oldDefault).getAttribute('data-default'), 'false');
      }
      assert.equal(await page.locator(`${tid('models-llm')} ${tid('model-default-badge')}`).count(), 1);
      const list = await apiOk('GET', '/api/llm-models');
      assert.deepEqual(list.filter((x) => x.is_default).map((x) => x.name), [NAME]);
      // Give the flag back, so the rest of the run uses the stack's model.
      if (M.oldDefault) {
        await row(M.oldDefault).locator(tid('model-make-default')).click();
        await row(M.oldDefault).locator(tid('model-default-badge')).waitFor();
      }
    }, [ADDED]);

    await test('builder: a TextGenerator\'s model is a dropdown of the saved models; the choice is saved in config.model', async () => {
      const p = await apiOk('POST', '/api/pipelines', {
        name: `UI models ${stamp}`,
        blocks: [{ type: 'TextGenerator', config: { user_prompt: 'Say hi about {{ topic }}.' } }],
      });
      M.pipelineId = String(p.id);
      created.pipelines.add(M.pipelineId);
      await go(`/pipelines/${encodeURIComponent(M.pipelineId)}/edit`);
      await blockNode(page, 'TextGenerator').waitFor();
      await selectNode(page, blockNode(page, 'TextGenerator'));
      const sel = page.locator(tid('config-model'));
      await sel.waitFor();
      const labels = await sel.locator('option').evaluateAll((os) => os.map((o) => o.textContent));
      assert.equal(labels[0], '(default)');
      assert.ok(labels.includes(NAME), `the dropdown lists ${NAME}: ${labels}`);
      assert.ok(!labels.includes(''), 'no empty entry for the null of the enum');
      assert.equal(await sel.inputValue(), '', 'a block without a model shows (default)');
      await sel.selectOption({ label: NAME });
      await page.locator(tid('save-pipeline')).click();
      await waitFor(async () => /Saved at/.test(await page.locator(tid('save-status')).innerText()), { what: 'saved' });
      const back = await apiOk('GET', `/api/pipelines/${encodeURIComponent(M.pipelineId)}`);
      assert.equal(back.definition.blocks[0].config.model, NAME);
      await shoot(page, 'builder-model-dropdown');
      // Back to the default: the key leaves the config.
      await page.reload();
      await selectNode(page, blockNode(page, 'TextGenerator'));
      assert.equal(await page.locator(tid('config-model')).inputValue(), JSON.stringify(NAME));
      await page.locator(tid('config-model')).selectOption('');
      await page.locator(tid('save-pipeline')).click();
      await waitFor(async () => {
        const d = await apiOk('GET', `/api/pipelines/${encodeURIComponent(M.pipelineId)}`);
        return !('model' in d.definition.blocks[0].config) || d.definition.blocks[0].config.model === null;
      }, { what: 'config.model to be gone' });
    }, [ADDED]);

    // ----------------------------------------- shown once the backend has it
    // A job's cost, the seed estimate and the rate-limit note come with
    // server changes of their own; until a server answers with them these
    // tests are skipped, saying why.
    const COST = 'jobs: a finished job\'s card shows its cost ("$0.0123", or "cost unknown")';
    let job = null;
    if (M.pipelineId) {
      try {
        const id = await generateViaApi(M.pipelineId, [{ metadata: { topic: 'tea' } }]);
        created.jobs.add(id);
        job = await jobEnded(id);
      } catch (e) {
        diag(`no job for the cost test: ${e.message}`);
      }
    }
    if (!job) skip(COST, 'no job could be run');
    else if (!job.usage || !('cost' in job.usage)) skip(COST, 'the server does not report usage.cost yet');
    else {
      await test(COST, async () => {
        await go('/generator');
        const card = page.locator(`${tid('job-card')}[data-job-id="${job.id}"]`);
        await card.waitFor();
        const text = (await card.locator(tid('job-cost')).innerText()).trim();
        const c = job.usage.cost;
        if (c === null) assert.equal(text, 'cost unknown');
        else if (c.currency === 'USD') assert.match(text, /^cost \$\d+\.\d{2,4}/);
        else assert.match(text, new RegExp(`^cost [0-9.e-]+ ${c.currency}$`));
      });
    }

    const EST = 'generator: after verifying the seeds, the estimate of executions, LLM calls, tokens and cost shows before Start';
    const SEEDS = [{ repetitions: 2, metadata: { topic: 'rain' } }, { metadata: { topic: 'snow' } }];
    const v = M.pipelineId ? await apiCall('POST', '/api/seeds/validate', { pipeline_id: Number(M.pipelineId), seeds: SEEDS }) : null;
    if (!v || v.status !== 200) skip(EST, 'no pipeline to validate seeds against');
    else if (!v.data || !v.data.estimate) skip(EST, 'the server does not answer an estimate yet');
    else {
      await test(EST, async () => {
        const e = v.data.estimate;
        await go(`/generator?pipeline_id=${encodeURIComponent(M.pipelineId)}`);
        await page.locator(tid('generator-page')).waitFor();
        await dropFile(page, tid('seed-dropzone'), 'seeds.json', JSON.stringify(SEEDS), 'application/json');
        await page.locator(tid('seed-file-info')).waitFor();
        await page.locator(tid('verify-seeds')).click();
        const est = page.locator(tid('seed-estimate'));
        await est.waitFor();
        const text = await est.innerText();
        assert.match(text, /^≈ /);
        if (typeof e.executions === 'number') assert.match(text, new RegExp(`${e.executions} executions?`));
        if (typeof e.llm_calls === 'number') assert.match(text, /LLM calls?/);
        if (e.cost === null) assert.match(text, /cost unknown/);
        else if (e.cost) assert.match(text, /up to (\$|[0-9])/);
        await shoot(page, 'generator-estimate');
      });
    }

    const RATE = 'jobs: a rate-limited job says so on its card while it waits ("rate limited, retrying in …")';
    const cfg = base ? await mock('GET', base, '/mock/config').catch(() => null) : null;
    if (!M.pipelineId) skip(RATE, 'no pipeline to run');
    else {
      await test(RATE, async () => {
        // A storm at the mock: every request answered 429 + Retry-After
        // for 30 s; the runner waits it out and says so on the job.
        const on = { storm_seconds: 30 };
        await mock('POST', base, '/mock/config', on);
        let id = null;
        try {
          id = await generateViaApi(M.pipelineId, [{ metadata: { topic: 'wind' } }]);
          created.jobs.add(id);
          await go('/generator');
          const card = page.locator(`${tid('job-card')}[data-job-id="${id}"]`);
          await card.waitFor();
          const step = card.locator(`${tid('job-step')}[data-waiting="true"]`);
          await step.waitFor({ timeout: 60000 });
          assert.match(await step.innerText(), /rate limited/);
          await shoot(page, 'generator-rate-limited');
        } finally {
          await mock('POST', base, '/mock/reset');
          if (id) await apiCall('DELETE', `/api/jobs/${encodeURIComponent(id)}`).catch(() => {});
        }
      });
    }

    await test('models: delete asks first, then the model is gone and the default is back on the oldest model', async () => {
      await go('/models');
      await row(NAME).locator(tid('model-delete')).click();
      await confirmDialog(page, 'Delete');
      await row(NAME).waitFor({ state: 'detached' });
      assert.equal((await apiCall('GET', `/api/llm-models/${encodeURIComponent(NAME)}`)).status, 404);
      const list = await apiOk('GET', '/api/llm-models');
      assert.equal(list.filter((x) => x.is_default).length, list.length ? 1 : 0);
    }, [ADDED]);
  } finally {
    page.off('response', onResponse);
    // Leave no model of ours behind (a failed test may have stopped early).
    for (const n of [NAME, `${NAME}-bad`]) await apiCall('DELETE', `/api/llm-models/${encodeURIComponent(n)}`).catch(() => {});
  }
}

module.exports = { runModelTests };
