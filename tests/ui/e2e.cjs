'use strict';
// End-to-end browser tests of the dgen web UI against a running stack
// (nginx + dgen-api + dgen-runner + an LLM, normally the mock) at DGEN_URL.
// Everything goes through the browser the way a user would do it; the API
// is only read afterwards to check the effect, and to clean up.
//
// Output is TAP; the exit status is 0 when every test passed.

const fs = require('node:fs');
const path = require('node:path');
const { assert, BASE, SHOTS, test, diag, done, launch, shoot, mouseDrag, apiCall, apiOk, waitFor } = require('./lib.cjs');

const JOB_TIMEOUT = Number(process.env.DGEN_JOB_TIMEOUT_MS || 180000);
const stamp = new Date().toISOString().replace(/[-:T]/g, '').slice(0, 14);
const PIPELINE_NAME = `UI e2e ${stamp}`;
const PROMPT = 'Write one sentence about {{ topic }}.';

const tid = (id) => `[data-testid="${id}"]`;
const created = { pipelines: new Set(), jobs: new Set() };
const S = {}; // facts later tests build on: pipelineId, jobId, recordIds

// Seeds: three good executions and one whose metadata lacks the `topic`
// variable the prompt needs, so it fails inside the pipeline.
const GOOD_SEEDS = [
  { repetitions: 2, metadata: { topic: 'the sea' } },
  { metadata: { topic: 'mountains' } },
  { metadata: { subject: 'this seed has no topic' } },
];

async function confirmDialog(page, button) {
  const dlg = page.locator('[role="alertdialog"], [role="dialog"]').filter({ has: page.getByRole('button', { name: button, exact: true }) });
  await dlg.getByRole('button', { name: button, exact: true }).click();
}

function blockNode(page, type) {
  return page.locator(`${tid('block-node')}[data-block-type="${type}"]`);
}

async function selectNode(page, locator) {
  // Click the node's title, away from the connection handles.
  await locator.locator('text=/./').first().click();
}

async function dropFile(page, selector, name, text, type) {
  const dt = await page.evaluateHandle(
    ([n, t, ty]) => {
      const d = new DataTransfer();
      d.items.add(new File([t], n, { type: ty }));
      return d;
    },
    [name, text, type],
  );
  await page.dispatchEvent(selector, 'dragenter', { dataTransfer: dt });
  await page.dispatchEvent(selector, 'dragover', { dataTransfer: dt });
  await page.dispatchEvent(selector, 'drop', { dataTransfer: dt });
}

async function main() {
  if (!BASE) {
    console.log('Bail out! DGEN_URL is not set');
    return 1;
  }
  console.log('TAP version 13');
  diag(`testing ${BASE}; screenshots in ${SHOTS}`);
  const health = await apiCall('GET', '/api/health').catch((e) => ({ status: 0, data: String(e) }));
  if (health.status !== 200) {
    console.log(`Bail out! ${BASE}/api/health answered ${health.status}: ${JSON.stringify(health.data)}`);
    return 1;
  }
  const { browser, page, pageErrors } = await launch();
  const go = (p) => page.goto(BASE + p);
  let templateId = null;

  try {
    // ---------------------------------------------------------------- pipelines
    await test('pipelines page shows the server templates and the pipeline list', async () => {
      const templates = await apiOk('GET', '/api/templates');
      await go('/pipelines');
      await page.locator(tid('pipelines-page')).waitFor();
      for (const t of templates) await page.locator(tid(`template-card-${t.id}`)).waitFor();
      assert.equal(await page.locator('[data-testid^="template-card-"]').count(), templates.length);
      const h1 = await page.locator('h1').innerText();
      assert.match(h1, /Pipelines/);
      await shoot(page, 'pipelines');
    });

    await test('a template card creates a pipeline with one click', async () => {
      const templates = await apiOk('GET', '/api/templates');
      assert.ok(templates.length > 0, 'the stack ships templates');
      templateId = templates[0].id;
      const [resp] = await Promise.all([
        page.waitForResponse((r) => r.url().includes(`/api/pipelines/from_template/${templateId}`) && r.request().method() === 'POST'),
        page.locator(tid(`use-template-${templateId}`)).click(),
      ]);
      assert.ok(resp.ok(), `from_template answered ${resp.status()}`);
      const body = await resp.json();
      S.templatePipelineId = String(body.id);
      created.pipelines.add(S.templatePipelineId);
      await page.locator(tid('template-created')).waitFor();
      await page.locator(`${tid('pipeline-row')}[data-pipeline-id="${body.id}"]`).waitFor();
    });

    await test('the example seed of a template downloads as a file', async () => {
      const templates = await apiOk('GET', '/api/templates');
      const t = templates.find((x) => x.example_seed !== undefined && x.example_seed !== null);
      assert.ok(t, 'a template with an example seed');
      const [dl] = await Promise.all([page.waitForEvent('download'), page.locator(tid(`download-seed-${t.id}`)).click()]);
      const file = path.join(SHOTS, dl.suggestedFilename());
      fs.mkdirSync(SHOTS, { recursive: true });
      await dl.saveAs(file);
      const text = fs.readFileSync(file, 'utf8');
      assert.ok(text.length > 0, 'the seed file is not empty');
      if (file.endsWith('.json')) JSON.parse(text);
      else assert.match(dl.suggestedFilename(), /\.md$/);
    });

    await test('colour mode toggle cycles System, Light, Dark and survives a reload', async () => {
      await go('/pipelines');
      const toggle = page.locator(tid('theme-toggle'));
      assert.equal(await toggle.getAttribute('data-mode'), 'auto');
      await page.emulateMedia({ colorScheme: 'dark' });
      await page.waitForFunction(() => document.documentElement.dataset.colorMode === 'dark');
      await toggle.click(); // -> light, whatever the system says
      assert.equal(await toggle.getAttribute('data-mode'), 'light');
      await page.waitForFunction(() => document.documentElement.dataset.colorMode === 'light');
      await toggle.click(); // -> dark
      await page.emulateMedia({ colorScheme: 'light' });
      await page.waitForFunction(() => document.documentElement.dataset.colorMode === 'dark');
      await page.reload();
      await page.waitForFunction(() => document.documentElement.dataset.colorMode === 'dark');
      assert.equal(await page.locator(tid('theme-toggle')).getAttribute('data-mode'), 'dark');
      await page.locator(tid('theme-toggle')).click(); // -> back to System
      assert.equal(await page.locator(tid('theme-toggle')).getAttribute('data-mode'), 'auto');
      await page.waitForFunction(() => document.documentElement.dataset.colorMode === 'light');
    });

    await test('every page has its own URL that survives a reload', async () => {
      for (const [p, id] of [
        ['/pipelines', 'pipelines-page'],
        ['/pipelines/new', 'builder-page'],
        ['/generator', 'generator-page'],
        ['/review', 'review-page'],
      ]) {
        await go(p);
        await page.locator(tid(id)).waitFor();
        await page.reload();
        await page.locator(tid(id)).waitFor();
        assert.equal(new URL(page.url()).pathname, p);
      }
    });

    // ------------------------------------------------------------------ builder
    await test('builder: blocks dragged from the palette land on the canvas, not connected', async () => {
      await go('/pipelines/new');
      await page.locator(tid('palette-item-TextGenerator')).waitFor();
      await page.locator(tid('palette-search')).fill('coherence');
      assert.equal(await page.locator(tid('palette-item-TextGenerator')).count(), 0, 'search filters the palette');
      await page.locator(tid('palette-item-CoherenceScore')).waitFor();
      await page.locator(tid('palette-search')).fill('');
      await page.dragAndDrop(tid('palette-item-TextGenerator'), tid('canvas'), { targetPosition: { x: 220, y: 140 } });
      await blockNode(page, 'TextGenerator').waitFor();
      await page.dragAndDrop(tid('palette-item-CoherenceScore'), tid('canvas'), { targetPosition: { x: 520, y: 140 } });
      await blockNode(page, 'CoherenceScore').waitFor();
      assert.equal(await page.locator(tid('block-node')).count(), 2);
      assert.equal(await page.locator(`${tid('block-node')} ${tid('badge-not-connected')}`).count(), 2);
    });

    await test('builder: saving an unconnected pipeline lists what is wrong', async () => {
      await page.locator(tid('pipeline-name-input')).fill(PIPELINE_NAME);
      await page.locator(tid('save-pipeline')).click();
      const v = page.locator(tid('validation-errors'));
      await v.waitFor();
      assert.match(await v.innerText(), /not connected/);
      assert.match(new URL(page.url()).pathname, /\/pipelines\/new$/, 'nothing was saved');
    });

    await test('builder: not-configured badge, duplicate and delete nodes', async () => {
      await page.dragAndDrop(tid('palette-item-StructuredGenerator'), tid('canvas'), { targetPosition: { x: 380, y: 420 } });
      const sg = blockNode(page, 'StructuredGenerator');
      await sg.waitFor();
      await sg.locator(tid('badge-not-configured')).waitFor(); // json_schema is required
      await selectNode(page, sg);
      await page.locator(tid('config-panel')).waitFor();
      await page.locator(tid('node-delete')).click();
      await sg.waitFor({ state: 'detached' });
      await selectNode(page, blockNode(page, 'CoherenceScore'));
      await page.locator(tid('node-duplicate')).click();
      await waitFor(async () => (await blockNode(page, 'CoherenceScore').count()) === 2, { what: 'a duplicated node' });
      await page.locator(tid('node-delete')).click(); // the copy is selected
      await waitFor(async () => (await blockNode(page, 'CoherenceScore').count()) === 1, { what: 'the copy deleted' });
      assert.equal(await page.locator(tid('block-node')).count(), 2);
    });

    await test('builder: connecting Start to End by dragging sets the block order', async () => {
      const tg = blockNode(page, 'TextGenerator');
      const cs = blockNode(page, 'CoherenceScore');
      await mouseDrag(page, page.locator(`${tid('node-start')} ${tid('handle-out')}`), tg.locator(tid('handle-in')));
      await mouseDrag(page, tg.locator(tid('handle-out')), cs.locator(tid('handle-in')));
      await mouseDrag(page, cs.locator(tid('handle-out')), page.locator(`${tid('node-end')} ${tid('handle-in')}`));
      await waitFor(async () => (await page.locator(tid('badge-not-connected')).count()) === 0, { what: 'all blocks connected' });
      assert.equal((await tg.locator(tid('node-position')).innerText()).trim(), '1.');
      assert.equal((await cs.locator(tid('node-position')).innerText()).trim(), '2.');
      await page.locator(tid('auto-layout')).click();
    });

    await test('builder: config forms come from the schema; field dropdown lists the fields available there', async () => {
      await page.locator(tid('tab-pipeline')).click();
      await page.locator(tid('seed-fields')).fill('topic');
      await page.locator(tid('constraint-max_total_tokens')).fill('1000000000');
      await selectNode(page, blockNode(page, 'TextGenerator'));
      await page.locator(tid('config-user_prompt')).fill(PROMPT);
      await page.locator(tid('config-temperature')).fill('0.2');
      await selectNode(page, blockNode(page, 'CoherenceScore'));
      const sel = page.locator(tid('config-field_name'));
      const options = await sel.locator('option').evaluateAll((os) => os.map((o) => o.value));
      for (const f of ['topic', 'assistant', 'user', 'system']) assert.ok(options.includes(f), `field dropdown offers ${f}: ${options}`);
      assert.ok(!options.includes('coherence_score'), 'a block cannot reference its own output');
      await sel.selectOption('assistant');
      await shoot(page, 'builder');
    });

    await test('builder: save creates the pipeline with the blocks in edge order', async () => {
      await page.locator(tid('save-pipeline')).click();
      await page.waitForURL(/\/pipelines\/[^/]+\/edit$/);
      S.pipelineId = decodeURIComponent(new URL(page.url()).pathname.split('/')[2]);
      created.pipelines.add(S.pipelineId);
      const p = await apiOk('GET', `/api/pipelines/${encodeURIComponent(S.pipelineId)}`);
      assert.equal(p.name, PIPELINE_NAME);
      assert.deepEqual(p.definition.blocks.map((b) => b.type), ['TextGenerator', 'CoherenceScore']);
      assert.equal(p.definition.blocks[0].config.user_prompt, PROMPT);
      assert.equal(p.definition.blocks[0].config.temperature, 0.2);
      assert.equal(p.definition.blocks[1].config.field_name, 'assistant');
      assert.equal(p.definition.constraints && p.definition.constraints.max_total_tokens, 1000000000);
      // The saved pipeline reloads into the same graph.
      await page.reload();
      await blockNode(page, 'CoherenceScore').waitFor();
      assert.equal((await blockNode(page, 'TextGenerator').locator(tid('node-position')).innerText()).trim(), '1.');
      assert.equal((await blockNode(page, 'CoherenceScore').locator(tid('node-position')).innerText()).trim(), '2.');
      assert.equal(await page.locator(tid('pipeline-name-input')).inputValue(), PIPELINE_NAME);
    }, ['builder: connecting Start to End by dragging sets the block order']);

    await test('builder: a server validation error is shown on the offending node', async () => {
      // A multiplier must be the first block; the server rejects it elsewhere
      // and names blocks[2] in detail.field.
      await page.locator(tid('palette-add-MarkdownMultiplierBlock')).click();
      const mm = blockNode(page, 'MarkdownMultiplierBlock');
      await mm.waitFor();
      await mm.locator(tid('badge-misplaced')).waitFor();
      const [resp] = await Promise.all([
        page.waitForResponse((r) => r.url().endsWith(`/api/pipelines/${S.pipelineId}`) && r.request().method() === 'PUT'),
        page.locator(tid('save-pipeline')).click(),
      ]);
      assert.equal(resp.status(), 422);
      const body = await resp.json();
      diag(`server said: ${JSON.stringify(body)}`);
      await page.locator(tid('save-error')).waitFor();
      const err = mm.locator(tid('node-server-error'));
      await err.waitFor();
      assert.equal((await err.innerText()).trim(), body.error);
      assert.equal(await blockNode(page, 'TextGenerator').locator(tid('node-server-error')).count(), 0);
      await shoot(page, 'builder-server-error');
      // Remove it again and reconnect the chain: saving works again.
      await selectNode(page, mm);
      await page.locator(tid('node-delete')).click();
      await mm.waitFor({ state: 'detached' });
      await page.locator(tid('auto-layout')).click();
      await mouseDrag(page, blockNode(page, 'CoherenceScore').locator(tid('handle-out')), page.locator(`${tid('node-end')} ${tid('handle-in')}`));
      await page.locator(tid('save-pipeline')).click();
      await waitFor(async () => /Saved at/.test(await page.locator(tid('save-status')).innerText()), { what: 'saved' });
      const p = await apiOk('GET', `/api/pipelines/${encodeURIComponent(S.pipelineId)}`);
      assert.deepEqual(p.definition.blocks.map((b) => b.type), ['TextGenerator', 'CoherenceScore']);
    }, ['builder: save creates the pipeline with the blocks in edge order']);

    await test('builder: try it runs one seed and shows the result and per-block trace', async () => {
      await page.locator(tid('tab-tryit')).click();
      await page.locator(tid('tryit-input')).fill('{"topic": "the sea"}');
      await page.locator(tid('tryit-run')).click();
      const result = page.locator(tid('tryit-result'));
      await result.waitFor({ timeout: 60000 });
      const state = JSON.parse(await result.innerText());
      assert.equal(state.topic, 'the sea');
      assert.equal(typeof state.assistant, 'string');
      assert.equal(typeof state.coherence_score, 'number');
      const entries = page.locator(`${tid('tryit-trace')} ${tid('trace-entry')}`);
      assert.equal(await entries.count(), 2);
      assert.match(await entries.nth(0).innerText(), /TextGenerator/);
      await entries.nth(0).locator(tid('trace-input')).waitFor();
      await entries.nth(0).locator(tid('trace-output')).waitFor();
      await entries.nth(0).locator(tid('trace-state')).waitFor();
      await shoot(page, 'builder-tryit');
    }, ['builder: save creates the pipeline with the blocks in edge order']);

    await test('builder: try it shows the block error when a template variable is missing', async () => {
      await page.locator(tid('tryit-input')).fill('{"subject": "nothing"}');
      await page.locator(tid('tryit-run')).click();
      const e = page.locator(tid('tryit-error'));
      await e.waitFor({ timeout: 60000 });
      assert.match(await e.innerText(), /topic/);
      assert.equal(await page.locator(tid('tryit-result')).count(), 0);
    }, ['builder: save creates the pipeline with the blocks in edge order']);

    // ---------------------------------------------------------------- generator
    await test('generator: a broken seed file shows its error and cannot be started', async () => {
      await go(`/generator?pipeline_id=${encodeURIComponent(S.pipelineId)}`);
      await page.locator(tid('generator-page')).waitFor();
      await waitFor(async () => (await page.locator(tid('gen-pipeline')).inputValue()) === S.pipelineId, { what: 'pipeline preselected from the URL' });
      await page.locator(tid('seed-file-input')).setInputFiles({ name: 'broken.json', mimeType: 'application/json', buffer: Buffer.from('[{"metadata": {"topic": "x"}},') });
      await page.locator(tid('seed-file-error')).waitFor();
      assert.match(await page.locator(tid('seed-file-error')).innerText(), /not valid JSON/);
      assert.ok(await page.locator(tid('start-generation')).isDisabled());
      await shoot(page, 'generator-bad-file');
    }, ['builder: save creates the pipeline with the blocks in edge order']);

    await test('generator: the server rejects an invalid seed and the error names it', async () => {
      const seeds = [{ metadata: { topic: 'fine' } }, { repetitions: 100000, metadata: { topic: 'too many repetitions' } }];
      await page.locator(tid('seed-file-input')).setInputFiles({ name: 'invalid.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(seeds)) });
      await page.locator(tid('seed-file-info')).waitFor();
      const [resp] = await Promise.all([
        page.waitForResponse((r) => r.url().endsWith('/api/generate')),
        page.locator(tid('start-generation')).click(),
      ]);
      assert.ok(resp.status() === 400 || resp.status() === 422, `status ${resp.status()}`);
      const body = await resp.json();
      await page.locator(tid('generate-error')).waitFor();
      assert.equal((await page.locator(tid('generate-error-message')).innerText()).trim(), body.error);
      if (body.detail && typeof body.detail.seed_index === 'number') {
        assert.equal(body.detail.seed_index, 1);
        assert.match(await page.locator(tid('generate-error-seed')).innerText(), /seed 1/);
      }
    }, ['builder: save creates the pipeline with the blocks in edge order']);

    await test('generator: verify seeds reports the template variable a seed lacks', async () => {
      await dropFile(page, tid('seed-dropzone'), 'seeds.json', JSON.stringify(GOOD_SEEDS), 'application/json');
      await waitFor(async () => /4 execution/.test(await page.locator(tid('seed-file-info')).innerText()), { what: 'the dropped file summary' });
      await page.locator(tid('verify-seeds')).click();
      const r = page.locator(tid('verify-result'));
      await r.waitFor();
      assert.match(await r.innerText(), /topic/);
    }, ['builder: save creates the pipeline with the blocks in edge order']);

    await test('generator: runner warning banner matches the health of the runner', async () => {
      const h = await apiOk('GET', '/api/health');
      await page.waitForTimeout(0);
      await waitFor(async () => (await page.locator(tid('runner-down-banner')).count()) === (h.runner && h.runner.alive === false ? 1 : 0), { what: 'banner state', timeoutMs: 10000 });
    });

    await test('generator: a job started from the page runs to completed with its progress shown', async () => {
      const [resp] = await Promise.all([
        page.waitForResponse((r) => r.url().endsWith('/api/generate') && r.request().method() === 'POST'),
        page.locator(tid('start-generation')).click(),
      ]);
      assert.ok(resp.ok(), `generate answered ${resp.status()}`);
      assert.ok(resp.request().headers()['idempotency-key'], 'an Idempotency-Key header is sent');
      S.jobId = String((await resp.json()).job_id);
      created.jobs.add(S.jobId);
      await page.locator(tid('job-started')).waitFor();
      const card = page.locator(`${tid('job-card')}[data-job-id="${S.jobId}"]`);
      await card.waitFor();
      await card.locator(tid('job-progress')).waitFor();
      await waitFor(async () => ['completed', 'failed', 'cancelled', 'stopped'].includes(await card.getAttribute('data-status')), {
        timeoutMs: JOB_TIMEOUT,
        what: `job ${S.jobId} to finish (is the runner running?)`,
        intervalMs: 1000,
      });
      assert.equal(await card.getAttribute('data-status'), 'completed');
      assert.match(await card.locator(tid('job-counts')).innerText(), /^4 \/ 4 executions/);
      assert.match(await card.locator(tid('job-records')).innerText(), /3 records/);
      assert.match(await card.locator(tid('job-records')).innerText(), /1 failed/);
      assert.equal(await card.locator(tid('job-progress')).getAttribute('aria-valuenow'), '100');
      assert.match(await card.locator(tid('job-elapsed')).innerText(), /elapsed \d/);
      assert.match(await card.locator(tid('job-tokens')).innerText(), /[1-9][\d,]* tokens/);
      await shoot(page, 'generator');
    }, ['builder: save creates the pipeline with the blocks in edge order']);

    await test('generator: failures show their error and "retry failed" starts a new job', async () => {
      const card = page.locator(`${tid('job-card')}[data-job-id="${S.jobId}"]`);
      await card.locator(tid('job-failures-toggle')).click();
      const items = card.locator(tid('failure-item'));
      await items.first().waitFor();
      assert.equal(await items.count(), 1);
      assert.match(await items.first().locator(tid('failure-error')).innerText(), /topic/);
      await shoot(page, 'generator-failures');
      const [resp] = await Promise.all([
        page.waitForResponse((r) => r.url().includes(`/api/jobs/${S.jobId}/retry_failed`)),
        card.locator(tid('retry-failed')).click(),
      ]);
      assert.ok(resp.ok(), `retry_failed answered ${resp.status()}`);
      const retryId = String((await resp.json()).job_id);
      created.jobs.add(retryId);
      const retryCard = page.locator(`${tid('job-card')}[data-job-id="${retryId}"]`);
      await retryCard.waitFor();
      // The one failed execution lacks `topic`, so it fails again: the new
      // job covers exactly that one execution.
      await waitFor(async () => ['completed', 'failed', 'stopped', 'cancelled'].includes(await retryCard.getAttribute('data-status')), { timeoutMs: JOB_TIMEOUT, intervalMs: 1000, what: 'the retry job' });
      assert.match(await retryCard.locator(tid('job-counts')).innerText(), /^1 \/ 1 executions/);
      assert.equal(await retryCard.getAttribute('data-status'), 'failed');
    }, ['generator: a job started from the page runs to completed with its progress shown']);

    await test('generator: a running job shows live progress and can be cancelled', async () => {
      const many = [...Array(10).keys()].map((i) => ({ repetitions: 10000, metadata: { topic: `cancel me ${i}` } }));
      await page.locator(tid('seed-file-input')).setInputFiles({ name: 'many.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(many)) });
      await page.locator(tid('seed-file-info')).waitFor();
      const [resp] = await Promise.all([
        page.waitForResponse((r) => r.url().endsWith('/api/generate') && r.request().method() === 'POST'),
        page.locator(tid('start-generation')).click(),
      ]);
      assert.ok(resp.ok(), `generate answered ${resp.status()}`);
      const jobId = String((await resp.json()).job_id);
      created.jobs.add(jobId);
      try {
        await watchAndCancel(jobId);
      } finally {
        // Whatever happened, stop it and drop its records so later tests
        // see only their own job.
        await apiCall('DELETE', `/api/jobs/${encodeURIComponent(jobId)}`);
        await apiCall('DELETE', `/api/records?job_id=${encodeURIComponent(jobId)}`);
      }
    }, ['builder: save creates the pipeline with the blocks in edge order']);

    async function watchAndCancel(jobId) {
      const card = page.locator(`${tid('job-card')}[data-job-id="${jobId}"]`);
      await card.waitFor();
      assert.match(await card.locator(tid('job-counts')).innerText(), /\/ 100,000 executions/);
      const h = await apiOk('GET', '/api/health');
      if (h.runner && h.runner.alive) {
        // While it runs the card follows it: the block being run, and a
        // count that moves without reloading the page.
        await waitFor(async () => (await card.getAttribute('data-status')) === 'running', { what: 'running status', intervalMs: 200 });
        const before = await card.locator(tid('job-counts')).innerText();
        await waitFor(async () => (await card.locator(tid('job-counts')).innerText()) !== before, { what: 'the progress to move', intervalMs: 200 });
        assert.match(await card.locator(tid('job-current')).innerText(), /now: (TextGenerator|CoherenceScore)/);
        assert.match(await card.locator(tid('job-elapsed')).innerText(), /elapsed \d/);
      } else {
        diag('the runner is not alive: the job stays queued, cancelling it there');
        assert.equal(await card.getAttribute('data-status'), 'queued');
      }
      await card.locator(tid('job-cancel')).click();
      await confirmDialog(page, 'Cancel job');
      await waitFor(async () => (await card.getAttribute('data-status')) === 'cancelled', { what: 'cancelled status', intervalMs: 1000 });
      assert.equal(await card.locator(tid('job-cancel')).count(), 0);
      const j = await apiOk('GET', `/api/jobs/${jobId}`);
      assert.equal(j.status, 'cancelled');
      assert.ok(j.current_seed < j.total_seeds, 'stopped before the end');
    }

    // ------------------------------------------------------------------- review
    const needJob = ['generator: a job started from the page runs to completed with its progress shown'];

    await test('review: records of the job are listed with counts per status', async () => {
      await go(`/review?pipeline_id=${encodeURIComponent(S.pipelineId)}&job_id=${encodeURIComponent(S.jobId)}`);
      await page.locator(tid('records-table')).waitFor();
      assert.equal(await page.locator(tid('record-row')).count(), 3);
      assert.match(await page.locator(tid('status-filter-all')).innerText(), /3/);
      assert.match(await page.locator(tid('status-filter-pending')).innerText(), /3/);
      assert.match(await page.locator(tid('status-filter-accepted')).innerText(), /0/);
      await page.locator(tid('shortcut-hint')).waitFor();
      await shoot(page, 'review-table');
    }, needJob);

    await test('review: "a" accepts the current record, "n" moves to the next', async () => {
      await page.locator(tid('view-single')).click();
      const single = page.locator(tid('record-single'));
      await single.waitFor();
      assert.match(await page.locator(tid('record-position')).innerText(), /Record 1 of 3/);
      S.first = await single.getAttribute('data-record-id');
      await page.keyboard.press('a');
      await waitFor(async () => (await single.getAttribute('data-status')) === 'accepted', { what: 'accepted in the page' });
      await waitFor(async () => (await apiOk('GET', `/api/records/${S.first}`)).status === 'accepted', { what: 'accepted on the server' });
      assert.match(await page.locator(tid('status-filter-accepted')).innerText(), /1/);
      await page.keyboard.press('n');
      await waitFor(async () => /Record 2 of 3/.test(await page.locator(tid('record-position')).innerText()), { what: 'record 2' });
      assert.notEqual(await single.getAttribute('data-record-id'), S.first);
    }, needJob);

    await test('review: "e" edits the output of a record, saved as edited', async () => {
      const single = page.locator(tid('record-single'));
      S.second = await single.getAttribute('data-record-id');
      await page.keyboard.press('e');
      const editor = page.locator(tid('edit-output'));
      await editor.waitFor();
      await editor.fill('Edited by the UI test.');
      await editor.press('Control+Enter');
      await page.locator(tid('record-editor')).waitFor({ state: 'detached' });
      await waitFor(async () => (await single.getAttribute('data-status')) === 'edited', { what: 'edited in the page' });
      const r = await apiOk('GET', `/api/records/${S.second}`);
      assert.equal(r.output, 'Edited by the UI test.');
      assert.equal(r.status, 'edited');
      assert.match(await page.locator(tid('field-primary-output')).innerText(), /Edited by the UI test\./);
    }, needJob);

    await test('review: the execution trace shows input, output, state and time per block', async () => {
      await page.locator(tid('record-trace-toggle')).click();
      const entries = page.locator(`${tid('record-trace')} ${tid('trace-entry')}`);
      await entries.first().waitFor();
      assert.equal(await entries.count(), 2);
      assert.match(await entries.nth(0).innerText(), /TextGenerator/);
      assert.match(await entries.nth(1).innerText(), /CoherenceScore/);
      const state = JSON.parse(await entries.nth(1).locator(tid('trace-state')).innerText());
      assert.equal(typeof state.coherence_score, 'number');
      await entries.nth(0).locator(tid('trace-time')).waitFor();
      await shoot(page, 'review-single');
    }, needJob);

    await test('review: keyboard shortcuts are discoverable with "?"', async () => {
      await page.locator('h1').click(); // focus out of any control
      await page.keyboard.press('?');
      const help = page.locator(tid('shortcut-help'));
      await help.waitFor();
      const text = await help.innerText();
      for (const w of ['accept', 'reject', 'pending', 'edit', 'next', 'previous']) assert.match(text, new RegExp(w));
      await shoot(page, 'review-help');
      await page.keyboard.press('?');
      await help.waitFor({ state: 'detached' });
      await page.locator(tid('shortcut-help-button')).click();
      await help.waitFor();
      await page.locator(tid('shortcut-help-button')).click();
      await help.waitFor({ state: 'detached' });
    }, needJob);

    await test('review: primary/secondary/hidden fields are saved for the pipeline', async () => {
      await page.locator(tid('field-config-toggle')).click();
      await page.locator(tid('field-config')).waitFor();
      await page.locator(tid('field-role-topic')).selectOption('primary');
      await page.locator(tid('field-role-user')).selectOption('hidden');
      const [resp] = await Promise.all([
        page.waitForResponse((r) => r.url().includes('/validation_config')),
        page.locator(tid('save-field-config')).click(),
      ]);
      assert.ok(resp.ok(), `validation_config answered ${resp.status()}`);
      const sent = JSON.parse(resp.request().postData());
      assert.ok(sent.field_order.primary.includes('topic'));
      assert.ok(sent.field_order.hidden.includes('user'));
      await page.reload();
      await page.locator(tid('record-single')).waitFor();
      await page.locator(tid('field-primary-topic')).waitFor();
      assert.equal(await page.locator(tid('field-secondary-user')).count(), 0);
      assert.equal(await page.locator(tid('field-primary-user')).count(), 0);
      await page.locator(tid('toggle-hidden')).click();
      await page.locator(tid('field-hidden-user')).waitFor();
    }, needJob);

    await test('review: export downloads the filtered records as JSONL', async () => {
      const read = async () => {
        const [dl] = await Promise.all([page.waitForEvent('download'), page.locator(tid('export-link')).click()]);
        const file = path.join(SHOTS, `export-${Date.now()}.jsonl`);
        await dl.saveAs(file);
        const lines = fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
        fs.unlinkSync(file);
        return { name: dl.suggestedFilename(), lines };
      };
      const all = await read();
      assert.equal(all.name, 'dgen_export.jsonl');
      assert.equal(all.lines.length, 3);
      assert.deepEqual(all.lines.map((l) => l.status).sort(), ['accepted', 'edited', 'pending']);
      await page.locator(tid('status-filter-accepted')).click();
      const acc = await read();
      assert.equal(acc.lines.length, 1);
      assert.equal(String(acc.lines[0].id), S.first);
      await page.locator(tid('status-filter-all')).click();
    }, needJob);

    await test('review: deleting the records of a job asks first, then empties the list', async () => {
      await page.locator(tid('view-table')).click();
      await page.locator(tid('records-table')).waitFor();
      await page.locator(tid('delete-records')).click();
      await confirmDialog(page, 'Delete');
      await waitFor(async () => /Deleted 3 record/.test(await page.locator(tid('review-notice')).innerText()), { what: 'the deletion notice' });
      // The job went with its records: the filter falls back to all jobs and
      // no longer offers it.
      assert.equal(await page.locator(tid('filter-job')).inputValue(), '');
      await waitFor(async () => (await page.locator(`${tid('filter-job')} option[value="${S.jobId}"]`).count()) === 0, { what: 'the job gone from the filter' });
      assert.equal(await page.locator(`${tid('record-row')}[data-record-id="${S.first}"]`).count(), 0);
      const left = await apiOk('GET', `/api/records?job_id=${encodeURIComponent(S.jobId)}`);
      assert.equal(left.length, 0);
      created.jobs.delete(S.jobId);
    }, needJob);

    await test('pipelines: delete asks for confirmation and removes the pipeline', async () => {
      assert.ok(S.templatePipelineId, 'a pipeline from a template exists');
      await go('/pipelines');
      const row = page.locator(`${tid('pipeline-row')}[data-pipeline-id="${S.templatePipelineId}"]`);
      await row.waitFor();
      await row.locator(tid('delete-pipeline')).click();
      await confirmDialog(page, 'Delete');
      await row.waitFor({ state: 'detached' });
      const r = await apiCall('GET', `/api/pipelines/${encodeURIComponent(S.templatePipelineId)}`);
      assert.equal(r.status, 404);
      created.pipelines.delete(S.templatePipelineId);
    }, ['a template card creates a pipeline with one click']);

    await test('no uncaught errors in the page', async () => {
      assert.deepEqual(pageErrors, []);
    });
  } finally {
    // Remove what the tests created (deleting a pipeline deletes its jobs
    // and records).
    for (const id of created.pipelines) await apiCall('DELETE', `/api/pipelines/${encodeURIComponent(id)}`).catch(() => {});
    await browser.close();
  }
  return done();
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.log(`Bail out! ${String((e && e.stack) || e).split('\n')[0]}`);
    console.error(e);
    process.exit(1);
  },
);
