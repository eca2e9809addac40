'use strict';
// End-to-end browser tests of the dgen web UI against a running stack
// (nginx + dgen-api + dgen-runner + an LLM, normally the mock) at DGEN_URL.
// Everything goes through the browser the way a user would do it; the API
// is only read afterwards to check the effect, and to clean up.
//
// Output is TAP; the exit status is 0 when every test passed.

const fs = require('node:fs');
const path = require('node:path');
const {
  assert, BASE, SHOTS, ADMIN, test, skip, diag, done, launch, login, logout, shoot, mouseDrag, stableBox, authHeaders, apiCall, apiOk, waitFor,
} = require('./lib.cjs');
const { runModelTests } = require('./models.cjs');

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

// The UI counts blocks and seeds from 1 in sentences (the server's detail
// keeps 0-based paths): the same rewrite as static/src/lib/format.ts.
function humanize(msg) {
  return msg
    .replace(/\bblocks\[(\d+)\]\.config\.([A-Za-z0-9_]+)/g, (_, i, k) => `block ${Number(i) + 1} (${k})`)
    .replace(/\bblocks\[(\d+)\](\.[A-Za-z0-9_.]+)?/g, (_, i, rest) => `block ${Number(i) + 1}${rest ? ` (${rest.slice(1)})` : ''}`)
    .replace(/\b([Ss]eeds?) (\d+(?:, \d+)*)/g, (_, w, list) => `${w} ${list.split(', ').map((n) => Number(n) + 1).join(', ')}`);
}

// Starts a job through the API the way the page does (multipart upload).
async function generateViaApi(pipelineId, seeds) {
  const fd = new FormData();
  fd.append('pipeline_id', String(pipelineId));
  fd.append('file', new Blob([JSON.stringify(seeds)], { type: 'application/json' }), 'seeds.json');
  const res = await fetch(`${BASE}/api/generate`, { method: 'POST', body: fd, headers: authHeaders() });
  const body = await res.json();
  assert.ok(res.ok, `generate answered ${res.status}: ${JSON.stringify(body)}`);
  return String(body.job_id);
}

async function jobEnded(jobId) {
  return waitFor(async () => {
    const j = await apiOk('GET', `/api/jobs/${encodeURIComponent(jobId)}`);
    return ['completed', 'failed', 'cancelled', 'stopped'].includes(j.status) && j;
  }, { timeoutMs: JOB_TIMEOUT, intervalMs: 500, what: `job ${jobId} to end` });
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
  // A server with accounts answers 401 to nobody; one without answers 404
  // on /api/auth/me, and the UI works as it did before accounts.
  const anon = await apiCall('GET', '/api/auth/me', undefined, { token: '' });
  const accounts = anon.status !== 404;
  if (accounts && !ADMIN.password) {
    console.log('Bail out! the server has accounts: set DGEN_DATA to the data dir of the stack (admin.password, admin.token)');
    return 1;
  }
  diag(accounts ? `signing in as ${ADMIN.name}` : 'the server has no accounts (404 on /api/auth/me): no sign-in');
  const { browser, context, page, pageErrors } = await launch();
  // A page with unsaved changes asks before unloading; the tests navigate
  // on purpose, so such prompts are accepted (and counted).
  const dialogs = [];
  page.on('dialog', (d) => {
    dialogs.push(d.type());
    if (d.type() === 'beforeunload') d.accept().catch(() => {});
    else d.dismiss().catch(() => {});
  });
  const go = (p) => page.goto(BASE + p);
  let templateId = null;

  try {
    // ---------------------------------------------------------------- sign in
    if (accounts) {
      await test('login: the app sends a visitor without a session to the login page; a wrong password says so', async () => {
        await go('/generator?x=1');
        await page.locator(tid('login-page')).waitFor();
        assert.equal(new URL(page.url()).pathname, '/login');
        assert.equal(new URL(page.url()).searchParams.get('next'), '/generator?x=1');
        assert.equal(await page.locator(tid('nav-pipelines')).count(), 0, 'no navigation before signing in');
        await shoot(page, 'login');
        await page.locator(tid('login-name')).fill(ADMIN.name);
        await page.locator(tid('login-password')).fill('not the password at all');
        await page.locator(tid('login-submit')).click();
        await page.locator(tid('login-error')).waitFor();
        assert.match(await page.locator(tid('login-error')).innerText(), /Wrong name or password/);
        assert.equal(new URL(page.url()).pathname, '/login');
        assert.equal(await page.locator(tid('current-user')).count(), 0);
        await shoot(page, 'login-error');
      });

      await test('login: the admin signs in and lands where they were going, named in the header', async () => {
        await login(page, ADMIN.name, ADMIN.password);
        await page.locator(tid('generator-page')).waitFor();
        const u = new URL(page.url());
        assert.equal(u.pathname + u.search, '/generator?x=1');
        assert.equal(await page.locator(tid('current-role')).innerText(), 'admin');
        await page.locator(tid('nav-users')).waitFor();
        await page.locator(tid('nav-tokens')).waitFor();
      });
    } else {
      skip('login: the app sends a visitor without a session to the login page; a wrong password says so', 'the server has no accounts');
      skip('login: the admin signs in and lands where they were going, named in the header', 'the server has no accounts');
    }

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

    await test('with the API down every page shows one "cannot reach the server" state, and Retry recovers', async () => {
      await page.route('**/api/**', (route) => route.abort('connectionrefused'));
      try {
        for (const [p, id] of [['/pipelines', 'pipelines-page'], ['/generator', 'generator-page'], ['/review', 'review-page']]) {
          await go(p);
          await page.locator(tid('server-down')).waitFor();
          assert.match(await page.locator(tid('server-down')).innerText(), /Cannot reach the dgen server/);
          assert.equal(await page.locator('[role="alert"]:visible').count(), 1, `one alert on ${p}`);
          assert.equal(await page.locator(`${tid('no-pipelines')}:visible, ${tid('no-jobs')}:visible, ${tid('no-records')}:visible`).count(), 0, `no "nothing yet" text on ${p}`);
          assert.equal(await page.locator(`${tid(id)}:visible`).count(), 0);
        }
        await shoot(page, 'server-down');
        await page.locator(tid('server-retry')).click();
        await page.waitForTimeout(300);
        await page.locator(tid('server-down')).waitFor(); // still down: the state stays
      } finally {
        await page.unroute('**/api/**');
      }
      await page.locator(tid('server-retry')).click();
      await page.locator(tid('server-down')).waitFor({ state: 'detached' });
      await page.locator(tid('review-page')).waitFor();
      await page.locator(`${tid('filter-pipeline')}`).waitFor();
    });

    await test('pipelines with the same name can be told apart by their ids', async () => {
      const def = { name: `Twin ${stamp}`, blocks: [{ type: 'ValidatorBlock', config: {} }] };
      const a = String((await apiOk('POST', '/api/pipelines', def)).id);
      const b = String((await apiOk('POST', '/api/pipelines', def)).id);
      created.pipelines.add(a);
      created.pipelines.add(b);
      await go('/pipelines');
      const idOf = async (id) => (await page.locator(`${tid('pipeline-row')}[data-pipeline-id="${id}"] ${tid('pipeline-id')}`).innerText()).trim();
      assert.equal(await idOf(a), `#${a}`);
      assert.equal(await idOf(b), `#${b}`);
      await go('/generator');
      await waitFor(async () => (await page.locator(`${tid('gen-pipeline')} option`).count()) > 2, { what: 'the pipeline choices' });
      const labels = await page.locator(`${tid('gen-pipeline')} option`).evaluateAll((os) => os.map((o) => o.textContent));
      const twins = labels.filter((l) => l.startsWith(`Twin ${stamp}`));
      assert.equal(twins.length, 2);
      assert.notEqual(twins[0], twins[1], `the two options read differently: ${twins}`);
      await go('/review');
      await waitFor(async () => (await page.locator(`${tid('filter-pipeline')} option`).count()) > 2, { what: 'the pipeline filter choices' });
      const rl = await page.locator(`${tid('filter-pipeline')} option`).evaluateAll((os) => os.map((o) => o.textContent));
      assert.equal(new Set(rl.filter((l) => l.startsWith(`Twin ${stamp}`))).size, 2);
      for (const id of [a, b]) {
        await apiCall('DELETE', `/api/pipelines/${id}`);
        created.pipelines.delete(id);
      }
    });

    await test('builder: unsaved changes ask before leaving, and Stay keeps them', async () => {
      await go('/pipelines/new');
      await page.locator(tid('palette-item-TextGenerator')).waitFor();
      await page.locator(tid('pipeline-name-input')).fill('not saved yet');
      await page.locator(tid('nav-generator')).click();
      const dlg = page.locator('[role="alertdialog"], [role="dialog"]').filter({ hasText: 'Leave without saving?' });
      await dlg.waitFor();
      await dlg.getByRole('button', { name: 'Stay', exact: true }).click();
      await dlg.waitFor({ state: 'detached' });
      assert.match(new URL(page.url()).pathname, /\/pipelines\/new$/);
      assert.equal(await page.locator(tid('pipeline-name-input')).inputValue(), 'not saved yet');
      await page.locator(tid('nav-generator')).click();
      await confirmDialog(page, 'Leave');
      await page.locator(tid('generator-page')).waitFor();
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
      // The banner from the failed save follows the graph: nothing is wrong now.
      await waitFor(async () => (await page.locator(tid('validation-errors')).count()) === 0, { what: 'the validation banner to go away' });
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
      assert.equal((await err.innerText()).trim(), humanize(body.error));
      assert.doesNotMatch(await err.innerText(), /blocks\[\d+\]/, 'blocks are counted from 1 in the sentence');
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
      // Readable at 1280 px: input, output and state each get the panel's
      // width instead of a third of it.
      const w = (await entries.nth(0).locator(tid('trace-state')).boundingBox()).width;
      assert.ok(w >= 300, `the state is ${Math.round(w)} px wide`);
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

    await test('builder at 1280 px: a 4-block template fits and reads, panels fold, try-it starts from its example seed', async () => {
      const t = await apiOk('POST', '/api/pipelines/from_template/qa_generation');
      const id = String(t.id);
      created.pipelines.add(id);
      await go(`/pipelines/${id}/edit`);
      await blockNode(page, 'JSONValidatorBlock').waitFor();
      const nodes = page.locator(tid('block-node'));
      assert.equal(await nodes.count(), 4);
      await stableBox(page, nodes.last());
      const canvas = await page.locator(tid('canvas')).boundingBox();
      assert.ok(canvas.width >= 800, `the canvas is ${Math.round(canvas.width)} px wide`);
      for (let i = 0; i < 4; i++) {
        const b = await nodes.nth(i).boundingBox();
        assert.ok(b.x >= canvas.x - 1 && b.y >= canvas.y - 1 && b.x + b.width <= canvas.x + canvas.width + 1 && b.y + b.height <= canvas.y + canvas.height + 1,
          `block ${i + 1} is inside the canvas`);
      }
      const scale = await page.evaluate(() => new DOMMatrix(getComputedStyle(document.querySelector('.react-flow__viewport')).transform).a);
      assert.ok(14 * scale >= 11, `node titles render at ${(14 * scale).toFixed(1)} px`);
      await shoot(page, 'builder-template-1280');
      await page.locator(tid('toggle-settings')).click();
      await waitFor(async () => (await page.locator(tid('canvas')).boundingBox()).width > canvas.width + 200, { what: 'a wider canvas' });
      await page.locator(tid('toggle-settings')).click();
      await page.locator(tid('fit-view')).click();
      await page.locator(tid('tab-tryit')).click();
      const input = JSON.parse(await page.locator(tid('tryit-input')).inputValue());
      assert.equal(typeof input.file_content, 'string', 'a markdown example seed for a multiplier pipeline');
      assert.match(input.file_content, /^# /m);
      await apiCall('DELETE', `/api/pipelines/${id}`);
      created.pipelines.delete(id);
    });

    // ------------------------------------------------------ DataGenFlow templates
    // The two templates of DataGenFlow 1.3, the way a user meets them: "Use
    // template" on the card, the three blocks with their forms in the
    // builder, Try it with the template's example seed, and a job from the
    // seed file the card downloads, ending with records in Review.
    const TEMPLATE_RUNS = [
      {
        id: 'data_augmentation',
        blocks: ['StructureSampler', 'SemanticInfiller', 'DuplicateRemover'],
        // a form field of each block and what it holds, as the template wrote it
        forms: {
          StructureSampler: { categorical_fields: 'plan\nrole', numeric_fields: 'storage' },
          SemanticInfiller: { fields_to_generate: 'bio\nstorage', temperature: '0.8' },
          DuplicateRemover: { similarity_threshold: '0.85', comparison_fields: 'bio' },
        },
        // Saving after an edit keeps the count a template filled from the seed.
        choose: { type: 'DuplicateRemover', field: 'similarity_threshold', value: '0.9', saved: 0.9, kept: ['StructureSampler', 'target_count', '{{ target_count }}'] },
        field: 'generated_samples',
        tryit(state, seed) {
          const samples = state.generated_samples;
          assert.ok(Array.isArray(samples), `generated_samples is a list: ${JSON.stringify(state).slice(0, 300)}`);
          assert.equal(samples.length, seed.target_count, 'as many samples as the seed asks for');
          for (const s of samples) {
            assert.equal(typeof s.is_duplicate, 'boolean', `each sample says whether it is a duplicate: ${JSON.stringify(s)}`);
            assert.equal(typeof s.bio, 'string', 'the LLM wrote the bio');
            assert.ok(s.bio.length > 0);
            assert.ok(['free', 'pro', 'team'].includes(s.plan), `the plan comes from the examples: ${s.plan}`);
          }
        },
        review: /is_duplicate/,
      },
      {
        id: 'ragas_evaluation',
        blocks: ['StructuredGenerator', 'FieldMapper', 'RagasMetrics'],
        forms: {
          StructuredGenerator: { temperature: '0.7' },
          RagasMetrics: { metrics: 'faithfulness\nanswer_relevancy\ncontext_precision\ncontext_recall', score_threshold: '0.5' },
        },
        // The user narrows the metrics in the form; the scores follow.
        choose: { type: 'RagasMetrics', field: 'metrics', value: 'faithfulness\ncontext_recall', saved: ['faithfulness', 'context_recall'] },
        field: 'ragas_scores',
        tryit(state, seed) {
          assert.equal(typeof state.question, 'string', 'FieldMapper wrote the question');
          assert.ok(Array.isArray(state.contexts), 'the contexts are a list');
          const sc = state.ragas_scores;
          assert.ok(sc && typeof sc === 'object', `ragas_scores is there: ${JSON.stringify(state).slice(0, 300)}`);
          for (const m of ['faithfulness', 'context_recall']) {
            assert.equal(typeof sc[m], 'number', `${m} is scored`);
            assert.ok(sc[m] >= 0 && sc[m] <= 1, `${m} is between 0 and 1: ${sc[m]}`);
          }
          for (const m of ['answer_relevancy', 'context_precision']) assert.equal(sc[m], undefined, `${m} was not chosen`);
          assert.equal(typeof sc.passed, 'boolean', 'passed says whether the record clears the threshold');
          assert.ok(typeof seed.content === 'string');
        },
        review: /faithfulness[\s\S]*passed|passed[\s\S]*faithfulness/,
      },
    ];
    for (const T of TEMPLATE_RUNS) {
      const created1 = `${T.id}: "Use template" makes a pipeline whose blocks and forms show in the builder`;
      await test(created1, async () => {
        const tpl = (await apiOk('GET', '/api/templates')).find((x) => x.id === T.id);
        assert.ok(tpl, `the stack ships the ${T.id} template`);
        T.name = tpl.name;
        await go('/pipelines');
        const card = page.locator(tid(`template-card-${T.id}`));
        await card.waitFor();
        assert.match(await card.innerText(), new RegExp(tpl.name));
        const [resp] = await Promise.all([
          page.waitForResponse((r) => r.url().includes(`/api/pipelines/from_template/${T.id}`) && r.request().method() === 'POST'),
          page.locator(tid(`use-template-${T.id}`)).click(),
        ]);
        assert.ok(resp.ok(), `from_template answered ${resp.status()}`);
        T.pipelineId = String((await resp.json()).id);
        created.pipelines.add(T.pipelineId);
        const note = page.locator(tid('template-created'));
        await note.waitFor();
        assert.match(await note.innerText(), new RegExp(`Created pipeline “${tpl.name}”`));
        await note.getByRole('link', { name: 'Open it in the builder' }).click();
        await page.waitForURL(new RegExp(`/pipelines/${T.pipelineId}/edit$`));
        await blockNode(page, T.blocks[T.blocks.length - 1]).waitFor();
        assert.equal(await page.locator(tid('block-node')).count(), T.blocks.length);
        assert.equal(await page.locator(tid('pipeline-name-input')).inputValue(), tpl.name);
        for (const [i, type] of T.blocks.entries()) {
          const node = blockNode(page, type);
          assert.equal((await node.locator(tid('node-position')).innerText()).trim(), `${i + 1}.`, `${type} is block ${i + 1}`);
          assert.equal(await node.locator(`${tid('badge-not-connected')}, ${tid('badge-not-configured')}, ${tid('badge-misplaced')}`).count(), 0, `${type} shows no warning badge`);
          await selectNode(page, node);
          const panel = page.locator(`${tid('config-panel')}`);
          await panel.waitFor();
          assert.match(await panel.innerText(), new RegExp(type));
          for (const [k, v] of Object.entries(T.forms[type] || {})) {
            assert.equal(await panel.locator(tid(`config-${k}`)).inputValue(), v, `${type}: the ${k} field shows the template's value`);
          }
          assert.equal(await panel.locator('[data-testid^="config-error-"]').count(), 0, `${type}: no field is in error`);
        }
        if (T.id === 'data_augmentation') {
          // The count comes from the seed: the form keeps the template.
          await selectNode(page, blockNode(page, 'StructureSampler'));
          assert.equal(await page.locator(tid('config-target_count')).inputValue(), '{{ target_count }}');
        } else {
          await selectNode(page, blockNode(page, 'StructuredGenerator'));
          assert.match(await page.locator(tid('config-user_prompt')).inputValue(), /\{\{ content \}\}/);
          assert.match(await page.locator(tid('config-json_schema')).inputValue(), /"reference"/);
          await selectNode(page, blockNode(page, 'FieldMapper'));
          assert.match(await page.locator(tid('config-mappings')).inputValue(), /generated\.qa\.question/);
        }
        if (T.choose) {
          await selectNode(page, blockNode(page, T.choose.type));
          await page.locator(tid(`config-${T.choose.field}`)).fill(T.choose.value);
          await page.locator(tid('save-pipeline')).click();
          await waitFor(async () => /Saved at/.test(await page.locator(tid('save-status')).innerText()), { what: 'saved' });
          const p = await apiOk('GET', `/api/pipelines/${encodeURIComponent(T.pipelineId)}`);
          const b = p.definition.blocks.find((x) => x.type === T.choose.type);
          assert.deepEqual(b.config[T.choose.field], T.choose.saved);
          if (T.choose.kept) {
            const [type, key, value] = T.choose.kept;
            assert.deepEqual(p.definition.blocks.find((x) => x.type === type).config[key], value, `${type} keeps ${key}`);
          }
          assert.deepEqual(p.definition.blocks.map((x) => x.type), T.blocks);
        }
        await shoot(page, `builder-${T.id}`);
      });

      await test(`${T.id}: Try it with the template's example seed shows ${T.field} in the result`, async () => {
        const tpl = (await apiOk('GET', '/api/templates')).find((x) => x.id === T.id);
        const seeds = typeof tpl.example_seed === 'string' ? JSON.parse(tpl.example_seed) : tpl.example_seed;
        const seed = seeds[0].metadata;
        await page.locator(tid('tab-tryit')).click();
        // The pipeline came from this template: Try it starts from its example.
        assert.deepEqual(JSON.parse(await page.locator(tid('tryit-input')).inputValue()), seed);
        await page.locator(tid('tryit-input')).fill('{}');
        await page.locator(tid('tryit-example')).selectOption(T.id);
        assert.deepEqual(JSON.parse(await page.locator(tid('tryit-input')).inputValue()), seed);
        await page.locator(tid('tryit-run')).click();
        const result = page.locator(tid('tryit-result'));
        await Promise.race([result.waitFor({ timeout: 60000 }), page.locator(tid('tryit-error')).waitFor({ timeout: 60000 })]);
        assert.equal(await page.locator(tid('tryit-error')).count(), 0, `no error: ${await page.locator(tid('tryit-error')).innerText().catch(() => '')}`);
        T.tryit(JSON.parse(await result.innerText()), seed);
        const entries = page.locator(`${tid('tryit-trace')} ${tid('trace-entry')}`);
        assert.equal(await entries.count(), T.blocks.length, 'one trace entry per block');
        for (const [i, type] of T.blocks.entries()) assert.match(await entries.nth(i).innerText(), new RegExp(type));
        await shoot(page, `builder-tryit-${T.id}`);
      }, [created1]);

      await test(`${T.id}: the example seed file from the card runs as a job to completed, with its records in Review`, async () => {
        const tpl = (await apiOk('GET', '/api/templates')).find((x) => x.id === T.id);
        const seeds = typeof tpl.example_seed === 'string' ? JSON.parse(tpl.example_seed) : tpl.example_seed;
        const executions = seeds.reduce((n, s) => n + (s.repetitions || 1), 0);
        await go('/pipelines');
        const [dl] = await Promise.all([page.waitForEvent('download'), page.locator(tid(`download-seed-${T.id}`)).click()]);
        assert.equal(dl.suggestedFilename(), `seed_${T.id}.json`);
        fs.mkdirSync(SHOTS, { recursive: true });
        const file = path.join(SHOTS, dl.suggestedFilename());
        await dl.saveAs(file);
        await go(`/generator?pipeline_id=${encodeURIComponent(T.pipelineId)}`);
        await waitFor(async () => (await page.locator(tid('gen-pipeline')).inputValue()) === T.pipelineId, { what: 'pipeline preselected from the URL' });
        await page.locator(tid('seed-file-input')).setInputFiles(file);
        const info = page.locator(tid('seed-file-info'));
        await info.waitFor();
        assert.match(await info.innerText(), new RegExp(`${seeds.length} seed\\(s\\), ${executions} execution\\(s\\)`));
        const [resp] = await Promise.all([
          page.waitForResponse((r) => r.url().endsWith('/api/generate') && r.request().method() === 'POST'),
          page.locator(tid('start-generation')).click(),
        ]);
        assert.ok(resp.ok(), `generate answered ${resp.status()}`);
        const jobId = String((await resp.json()).job_id);
        created.jobs.add(jobId);
        const card = page.locator(`${tid('job-card')}[data-job-id="${jobId}"]`);
        await card.waitFor();
        await waitFor(async () => ['completed', 'failed', 'cancelled', 'stopped'].includes(await card.getAttribute('data-status')), {
          timeoutMs: JOB_TIMEOUT, intervalMs: 1000, what: `job ${jobId} to finish`,
        });
        const why = await card.locator(tid('job-error')).innerText().catch(() => '');
        assert.equal(await card.getAttribute('data-status'), 'completed', why);
        assert.match(await card.locator(tid('job-counts')).innerText(), new RegExp(`^${executions} / ${executions} executions`));
        const recs = await card.locator(tid('job-records')).innerText();
        assert.match(recs, new RegExp(`${executions} records?`));
        assert.doesNotMatch(recs, /[1-9][\d,]* failed/);
        await shoot(page, `generator-${T.id}`);
        await card.locator(tid('job-review-link')).click();
        await page.locator(tid('records-table')).waitFor();
        assert.equal(await page.locator(tid('record-row')).count(), executions);
        assert.match(await page.locator(tid('status-filter-pending')).innerText(), new RegExp(String(executions)));
        await page.locator(tid('record-row')).first().locator(tid('open-record')).click();
        await page.locator(tid('record-single')).waitFor();
        const field = page.locator(`${tid(`field-primary-${T.field}`)}, ${tid(`field-secondary-${T.field}`)}`);
        await field.waitFor();
        assert.match(await field.innerText(), T.review);
        await shoot(page, `review-${T.id}`);
      }, [created1]);
    }

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
      assert.equal((await page.locator(tid('generate-error-message')).innerText()).trim(), humanize(body.error));
      if (body.detail && typeof body.detail.seed_index === 'number') {
        assert.equal(body.detail.seed_index, 1);
        // The second seed of the file: seed 2 to a person.
        assert.match(await page.locator(tid('generate-error-seed')).innerText(), /seed 2\b/);
        assert.match(await page.locator(tid('generate-error-message')).innerText(), /Seed 2\b/);
      }
    }, ['builder: save creates the pipeline with the blocks in edge order']);

    await test('generator: verify seeds reports the template variable a seed lacks', async () => {
      await dropFile(page, tid('seed-dropzone'), 'seeds.json', JSON.stringify(GOOD_SEEDS), 'application/json');
      await waitFor(async () => /4 execution/.test(await page.locator(tid('seed-file-info')).innerText()), { what: 'the dropped file summary' });
      await page.locator(tid('verify-seeds')).click();
      const r = page.locator(tid('verify-result'));
      await r.waitFor();
      assert.match(await r.innerText(), /topic/);
      // Every execution of the third seed would fail (strict undefined):
      // an error naming the variable and the seed, counted from 1.
      assert.equal(await r.getAttribute('data-valid'), 'false');
      const e = page.locator(tid('verify-error'));
      assert.equal(await e.count(), 1);
      assert.match(await e.innerText(), /'topic'.*seed 3\b/);
      assert.match(await e.innerText(), /block 1 \(user_prompt\)/);
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
      assert.match(await items.first().innerText(), /seed 3, repetition 1/);
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

    await test('generator: a cancel racing the end of the job says so, and the note can be dismissed', async () => {
      const jobId = await generateViaApi(S.pipelineId, Array.from({ length: 10 }, () => ({ repetitions: 10000, metadata: { topic: 'race' } })));
      created.jobs.add(jobId);
      try {
        const card = page.locator(`${tid('job-card')}[data-job-id="${jobId}"]`);
        await card.waitFor();
        await card.locator(tid('job-cancel')).click();
        // It ends elsewhere while the question is open. A running job only
        // gets the cancel flag, and a second cancel of it is still accepted,
        // so wait until its runner has ended it before answering.
        await apiOk('DELETE', `/api/jobs/${encodeURIComponent(jobId)}`);
        await jobEnded(jobId);
        await confirmDialog(page, 'Cancel job');
        const note = card.locator(tid('job-action-notice'));
        await note.waitFor();
        assert.match(await note.innerText(), /Nothing to cancel/);
        assert.equal(await card.locator(tid('job-action-error')).count(), 0, 'no red error');
        // Cancelled by the other request, or finished first: either way the
        // card shows how it ended.
        await waitFor(async () => ['cancelled', 'completed'].includes(await card.getAttribute('data-status')), { what: 'the ended status' });
        await card.locator(tid('job-action-notice-dismiss')).click();
        await note.waitFor({ state: 'detached' });
      } finally {
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
      // It no longer looks running: no running colour, no clock ticking.
      assert.notEqual(await card.locator(tid('job-progress')).getAttribute('data-tone'), 'active');
      assert.equal(await card.locator(tid('job-rate')).count(), 0);
      const el = await card.locator(tid('job-elapsed')).innerText();
      await page.waitForTimeout(2200);
      assert.equal(await card.locator(tid('job-elapsed')).innerText(), el);
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

    await test('review: a row\'s Open button opens that record', async () => {
      const rows = page.locator(tid('record-row'));
      const id = await rows.nth(1).getAttribute('data-record-id');
      await rows.nth(1).locator(tid('open-record')).click();
      const single = page.locator(tid('record-single'));
      await single.waitFor();
      assert.equal(await single.getAttribute('data-record-id'), id);
      assert.equal(new URL(page.url()).searchParams.get('view'), 'single');
      await go(`/review?pipeline_id=${encodeURIComponent(S.pipelineId)}&job_id=${encodeURIComponent(S.jobId)}`);
      await page.locator(tid('records-table')).waitFor();
    }, needJob);

    await test('review: "a" accepts the current record and moves on to the next pending one, "p" goes back', async () => {
      await page.locator(tid('view-single')).click();
      const single = page.locator(tid('record-single'));
      await single.waitFor();
      assert.match(await page.locator(tid('record-position')).innerText(), /Record 1 of 3/);
      S.first = await single.getAttribute('data-record-id');
      await page.keyboard.press('a');
      await waitFor(async () => /Record 2 of 3/.test(await page.locator(tid('record-position')).innerText()), { what: 'record 2' });
      assert.notEqual(await single.getAttribute('data-record-id'), S.first);
      assert.equal(await single.getAttribute('data-status'), 'pending');
      await waitFor(async () => (await apiOk('GET', `/api/records/${S.first}`)).status === 'accepted', { what: 'accepted on the server' });
      await waitFor(async () => /1/.test(await page.locator(tid('status-filter-accepted')).innerText()), { what: 'the accepted count' });
      await page.keyboard.press('p');
      await waitFor(async () => (await single.getAttribute('data-record-id')) === S.first, { what: 'back to record 1' });
      assert.equal(await single.getAttribute('data-status'), 'accepted');
      await page.keyboard.press('n');
      await waitFor(async () => /Record 2 of 3/.test(await page.locator(tid('record-position')).innerText()), { what: 'record 2 again' });
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

    await test('review: a JSON template\'s records show the JSON; export follows the Pipeline filter', async () => {
      const t = await apiOk('POST', '/api/pipelines/from_template/json_generation');
      const tp = String(t.id);
      created.pipelines.add(tp);
      const jid = await generateViaApi(tp, [{ metadata: { content: 'Solar panels turn light into power.' } }, { metadata: { content: 'Bread rises.' } }]);
      assert.equal((await jobEnded(jid)).status, 'completed');
      await go(`/review?pipeline_id=${encodeURIComponent(tp)}`);
      await page.locator(tid('records-table')).waitFor();
      const rows = page.locator(tid('record-row'));
      assert.equal(await rows.count(), 2);
      const text = await rows.first().innerText();
      assert.match(text, /"title"/, `the row shows the generated JSON: ${text}`);
      assert.doesNotMatch(text, /^\s*\d+\s+pending\s+true\b/m);
      await shoot(page, 'review-json-template');
      // Only the pipeline filter (no job): the other pipeline's records stay out.
      await go(`/review?pipeline_id=${encodeURIComponent(S.pipelineId)}`);
      await page.locator(tid('records-table')).waitFor();
      const [dl] = await Promise.all([page.waitForEvent('download'), page.locator(tid('export-link')).click()]);
      const file = path.join(SHOTS, `export-pipeline-${Date.now()}.jsonl`);
      await dl.saveAs(file);
      const lines = fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
      fs.unlinkSync(file);
      assert.ok(lines.length > 0);
      assert.deepEqual([...new Set(lines.map((l) => String(l.pipeline_id)))], [S.pipelineId]);
      await go(`/review?pipeline_id=${encodeURIComponent(S.pipelineId)}&job_id=${encodeURIComponent(S.jobId)}`);
      await page.locator(tid('records-table')).waitFor();
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

    // ---------------------------------------------------------- review at scale
    // 10 000 records with a numeric state (score = (unit % 100) / 100, a
    // needle in every tenth output) stored straight into the stack's
    // database by the test tool that plays the runner; one real record of
    // the same pipeline has no score.
    const DB = process.env.DGEN_DB;
    const FAKE = process.env.DGEN_FAKE_RUNNER || path.join(__dirname, '..', '..', 'build', 'tests', 'api', 'fake_runner');
    if (!DB || !fs.existsSync(FAKE)) diag('review at scale is skipped: set DGEN_DB to the database of the stack under test (and build fake_runner)');
    else {
    const info = () => page.locator(tid('pager-info')).innerText();
    const totalIs = (n) => waitFor(async () => (await page.locator(tid('pager-info')).getAttribute('data-total')) === String(n), { what: `a total of ${n}` });

    await test('review at scale: 10 000 records are seeded', async () => {
      const p = await apiOk('POST', '/api/pipelines', { name: `Scale ${stamp}`, blocks: [{ type: 'TextGenerator', config: { user_prompt: 'Say {{ topic }}.' } }] });
      S.scalePipeline = String(p.id);
      created.pipelines.add(S.scalePipeline);
      const jid = await generateViaApi(S.scalePipeline, [{ metadata: { topic: 'hi' } }]);
      assert.equal((await jobEnded(jid)).status, 'completed');
      const t0 = Date.now();
      require('node:child_process').execFileSync(FAKE, [DB, 'scored', jid, '10000', '1000']);
      diag(`seeded 10 000 records in ${Date.now() - t0} ms`);
      const st = await apiOk('GET', `/api/records/stats?pipeline_id=${S.scalePipeline}`);
      assert.equal(st.total, 10001);
    });
    const scale = ['review at scale: 10 000 records are seeded'];

    await test('review at scale: the table pages through the server with the total', async () => {
      const t0 = Date.now();
      await go(`/review?pipeline_id=${S.scalePipeline}`);
      await page.locator(tid('records-table')).waitFor();
      await totalIs(10001);
      diag(`first page of 10 001 records shown in ${Date.now() - t0} ms`);
      assert.equal(await page.locator(tid('record-row')).count(), 50);
      assert.match(await info(), /^1–50 of 10,001$/);
      assert.match(await page.locator(tid('status-filter-all')).innerText(), /10,001|10001/);
      await page.locator(tid('pager-next')).click();
      await waitFor(async () => /^51–100 of 10,001$/.test(await info()), { what: 'page 2' });
      assert.match(await page.locator(tid('record-row')).first().innerText(), /^51\b/);
      assert.equal(new URL(page.url()).searchParams.get('offset'), '50');
      await page.locator(tid('pager-prev')).click();
      await waitFor(async () => /^1–50 of/.test(await info()), { what: 'page 1 again' });
      await shoot(page, 'review-scale-table');
    }, scale);

    await test('review at scale: search in the output', async () => {
      await page.locator(tid('record-search')).fill('NEEDLE');
      await totalIs(1000);
      assert.equal(new URL(page.url()).searchParams.get('q'), 'NEEDLE');
      const rows = await page.locator(tid('record-row')).allInnerTexts();
      assert.ok(rows.every((r) => /needle/.test(r)), 'every row mentions the needle');
      await page.locator(tid('record-search')).fill('');
      await totalIs(10001);
    }, scale);

    await test('review at scale: sort by a score column, both ways', async () => {
      const head = page.locator(tid('sort-score'));
      await head.click();
      await waitFor(async () => (await page.locator(tid('cell-score')).first().innerText()) === '0.99', { what: 'the highest score first' });
      assert.equal(await head.getAttribute('data-sort'), 'descending');
      assert.equal(new URL(page.url()).searchParams.get('sort'), '-score');
      await head.click();
      await waitFor(async () => (await page.locator(tid('cell-score')).first().innerText()) === '0', { what: 'the lowest score first' });
      assert.equal(await head.getAttribute('data-sort'), 'ascending');
      const byTime = page.locator(tid('sort-created_at'));
      await byTime.click();
      await waitFor(async () => (await byTime.getAttribute('data-sort')) === 'descending', { what: 'newest first' });
      assert.equal(new URL(page.url()).searchParams.get('sort'), null);
      assert.equal(await head.getAttribute('data-sort'), 'none');
      await byTime.click();
      await waitFor(async () => new URL(page.url()).searchParams.get('sort') === 'created_at', { what: 'oldest first' });
      await waitFor(async () => /^scored record 1000\b/.test(await page.locator(tid('record-row')).nth(1).locator('td').nth(2).innerText()), { what: 'the first seeded record second, after the real one' });
    }, scale);

    await test('review at scale: histograms of the filter, and a range filter narrows the list', async () => {
      await go(`/review?pipeline_id=${S.scalePipeline}`);
      const card = page.locator(tid('stats-field-score'));
      await card.waitFor();
      assert.equal(await card.locator(tid('hist-bar')).count(), 10);
      const counts = await card.locator(tid('hist-bar')).evaluateAll((bars) => bars.map((b) => Number(b.getAttribute('data-count'))));
      assert.equal(counts.reduce((a, b) => a + b, 0), 10000);
      await page.locator(tid('range-min-score')).fill('0.9');
      await page.locator(tid('range-min-score')).press('Enter');
      await totalIs(1000);
      assert.equal(new URL(page.url()).searchParams.get('min.score'), '0.9');
      await waitFor(async () => {
        const c = await card.locator(tid('hist-bar')).evaluateAll((bars) => bars.map((b) => Number(b.getAttribute('data-count'))));
        return c.reduce((a, b) => a + b, 0) === 1000;
      }, { what: 'the histogram of the filtered records' });
      await shoot(page, 'review-scale-range');
      await page.locator(tid('range-clear-score')).click();
      await totalIs(10001);
    }, scale);

    await test('review at scale: "a" and "r" decide and move on to the next pending record, across pages', async () => {
      await go(`/review?pipeline_id=${S.scalePipeline}&status=pending&view=single&sort=created_at`);
      const single = page.locator(tid('record-single'));
      await single.waitFor();
      const a = await single.getAttribute('data-record-id');
      await page.keyboard.press('a');
      await waitFor(async () => (await single.getAttribute('data-record-id')) !== a, { what: 'the next record' });
      const b = await single.getAttribute('data-record-id');
      assert.equal(await single.getAttribute('data-status'), 'pending');
      await page.keyboard.press('r');
      await waitFor(async () => (await single.getAttribute('data-record-id')) !== b, { what: 'the next record after b' });
      await waitFor(async () => (await apiOk('GET', `/api/records/${a}`)).status === 'accepted', { what: 'a accepted' });
      await waitFor(async () => (await apiOk('GET', `/api/records/${b}`)).status === 'rejected', { what: 'b rejected' });
      // The last record of the page: "a" loads the next page and lands on
      // its first pending record, none skipped.
      const q = `pipeline_id=${S.scalePipeline}&status=pending&sort=created_at`;
      const page1 = await apiOk('GET', `/api/records?${q}&limit=50`);
      const last = String(page1[49].id);
      const [next] = await apiOk('GET', `/api/records?${q}&limit=1&offset=50`);
      await go(`/review?${q}&view=single&record=${last}`);
      await waitFor(async () => (await single.getAttribute('data-record-id')) === last, { what: 'the last record of page 1' });
      assert.match(await page.locator(tid('record-position')).innerText(), /Record 50 of/);
      await page.keyboard.press('a');
      await waitFor(async () => (await single.getAttribute('data-record-id')) === String(next.id), { what: `record ${next.id}, the first pending one of the next page` });
      assert.equal(await single.getAttribute('data-status'), 'pending');
      assert.equal((await apiOk('GET', `/api/records/${last}`)).status, 'accepted');
    }, scale);

    await test('review at scale: bulk accept of the 10 000 records matching a filter, after a confirmation naming the count', async () => {
      const [outside] = await apiOk('GET', `/api/records?pipeline_id=${S.scalePipeline}&sort=created_at&limit=1`);
      await go(`/review?pipeline_id=${S.scalePipeline}`);
      await totalIs(10001);
      const t0 = Date.now();
      await page.locator(tid('range-min-score')).fill('0');
      await page.locator(tid('range-min-score')).press('Enter');
      await totalIs(10000);
      const tFilter = Date.now() - t0;
      await page.locator(tid('bulk-accept')).click();
      const dlg = page.locator('[role="alertdialog"], [role="dialog"]').filter({ hasText: '10,000' });
      await dlg.waitFor();
      assert.match(await dlg.innerText(), /Accept 10,000 records\?/);
      assert.match(await dlg.innerText(), /score ≥ 0/);
      await shoot(page, 'review-scale-bulk-confirm');
      const t1 = Date.now();
      await confirmDialog(page, 'Accept 10,000');
      await waitFor(async () => /Accepted 10,000 records\./.test(await page.locator(tid('review-notice')).innerText().catch(() => '')), { what: 'the bulk notice', timeoutMs: 60000, intervalMs: 100 });
      const tBulk = Date.now() - t1;
      await waitFor(async () => /10,?000/.test(await page.locator(tid('status-filter-accepted')).innerText()), { what: 'the accepted count' });
      diag(`bulk review of 10 000 records: filter ${tFilter} ms, confirm to done ${tBulk} ms, filter to done ${Date.now() - t0} ms (including the confirmation click)`);
      const st = await apiOk('GET', `/api/records/stats?pipeline_id=${S.scalePipeline}&min.score=0`);
      assert.equal(st.total, 10000);
      assert.equal(st.by_status.accepted, 10000);
      assert.equal((await apiOk('GET', `/api/records/${outside.id}`)).status, outside.status, 'the record outside the filter is untouched');
    }, scale);
    }

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

    // ---------------------------------------------------------------- accounts
    const ACC = [
      'tokens: a new token is shown once, works on the API, and stops working once revoked',
      'users: an admin adds a member; a too-short password is refused first',
      'users: the member signs in, sees none of the admin\'s pipelines, gets 404 opening one, and has no Users page',
      'users: back as the admin, disabling the member shows and sticks',
      'login: too many wrong passwords say how long to wait, and the button waits too',
    ];
    if (!accounts) {
      for (const n of ACC) skip(n, 'the server has no accounts');
    } else {
      await test(ACC[0], async () => {
        await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: BASE });
        const name = `ui-token-${stamp}`;
        await go('/tokens');
        await page.locator(tid('tokens-page')).waitFor();
        await page.locator(tid('token-name')).fill(name);
        await page.locator(tid('token-days')).fill('7');
        await page.locator(tid('create-token')).click();
        await page.locator(tid('token-dialog')).waitFor();
        assert.match(await page.locator(tid('token-once-warning')).innerText(), /you will not see it again/);
        const token = await page.locator(tid('new-token-value')).inputValue();
        assert.match(token, /^dgen_/);
        await page.locator(tid('copy-token')).click();
        await page.locator(tid('copy-token')).filter({ hasText: 'Copied' }).waitFor();
        assert.equal(await page.evaluate(() => navigator.clipboard.readText()), token);
        await shoot(page, 'token-created');
        // The token is the bearer of the admin's rights.
        const me = await apiCall('GET', '/api/auth/me', undefined, { token });
        assert.equal(me.status, 200, JSON.stringify(me.data));
        assert.equal(me.data.name, ADMIN.name);
        await page.locator(tid('token-dialog-done')).click();
        await page.locator(tid('token-dialog')).waitFor({ state: 'detached' });
        assert.ok(!(await page.content()).includes(token), 'the token is gone from the page once the dialog closes');
        const row = page.locator(`${tid('token-row')}[data-token-name="${name}"]`);
        await row.waitFor();
        await go('/tokens');
        await row.waitFor();
        assert.notEqual((await row.locator(tid('token-last-used')).innerText()).trim(), 'never', 'last used after the API call');
        await shoot(page, 'tokens');
        await row.locator(tid('revoke-token')).click();
        await confirmDialog(page, 'Revoke');
        await row.waitFor({ state: 'detached' });
        const after = await apiCall('GET', '/api/auth/me', undefined, { token });
        assert.equal(after.status, 401, 'a revoked token is refused');
      });

      S.member = { name: `member${stamp.slice(-8)}`, password: `member-pass-${stamp}` };
      await test(ACC[1], async () => {
        await go('/users');
        await page.locator(tid('users-page')).waitFor();
        await page.locator(`${tid('user-row')}[data-user="${ADMIN.name}"]`).waitFor();
        await page.locator(tid('new-user-name')).fill(S.member.name);
        await page.locator(tid('new-user-password')).fill('short');
        assert.ok(await page.locator(tid('create-user')).isDisabled(), 'a password under 12 characters cannot be sent');
        await page.getByText('At least 12 characters').waitFor();
        await page.locator(tid('new-user-password')).fill(S.member.password);
        await page.locator(tid('new-user-role')).selectOption('member');
        await page.locator(tid('create-user')).click();
        const row = page.locator(`${tid('user-row')}[data-user="${S.member.name}"]`);
        await row.waitFor();
        assert.match(await row.innerText(), /member/);
        const users = await apiOk('GET', '/api/users');
        const u = users.find((x) => x.name === S.member.name);
        assert.ok(u, 'the user exists on the server');
        assert.equal(u.role, 'member');
        assert.equal(u.disabled, false);
        await row.locator(tid('show-user-tokens')).click();
        await page.locator(tid('user-tokens')).waitFor();
        await page.locator(tid('user-tokens')).locator(`${tid('no-tokens')}, ${tid('token-table')}`).first().waitFor();
        await shoot(page, 'users');
      });

      await test(ACC[2], async () => {
        const mine = await apiOk('POST', '/api/pipelines', { name: `Admin only ${stamp}`, blocks: [{ type: 'ValidatorBlock', config: {} }] });
        const id = String(mine.id);
        created.pipelines.add(id);
        await logout(page);
        await login(page, S.member.name, S.member.password);
        assert.equal(await page.locator(tid('current-role')).innerText(), 'member');
        await go('/pipelines');
        await page.locator(`${tid('no-pipelines')}, ${tid('pipeline-list')}`).first().waitFor();
        assert.equal(await page.locator(tid('pipeline-row')).count(), 0, 'a new member has no pipelines and sees nobody else\'s');
        assert.equal(await page.locator(tid('nav-users')).count(), 0, 'no Users link for a member');
        await page.locator(tid('nav-tokens')).waitFor();
        // Opening the admin's pipeline by URL: the same 404 as an unknown id.
        const status = await page.evaluate(async (p) => (await fetch(`/api/pipelines/${p}`)).status, id);
        assert.equal(status, 404);
        await go(`/pipelines/${id}/edit`);
        await page.locator(tid('builder-load-error')).waitFor();
        await go('/users');
        await page.locator(tid('users-forbidden')).waitFor();
        assert.equal(await page.locator(tid('users-page')).count(), 0);
        await shoot(page, 'users-member');
      }, [ACC[1]]);

      await test(ACC[3], async () => {
        if (await page.locator(tid('logout')).isVisible().catch(() => false)) await logout(page);
        await login(page, ADMIN.name, ADMIN.password);
        await go('/users');
        const row = page.locator(`${tid('user-row')}[data-user="${S.member.name}"]`);
        await row.waitFor();
        await row.locator(tid('toggle-user')).click();
        await page.locator(`${tid('user-row')}[data-user="${S.member.name}"][data-disabled="true"]`).waitFor();
        const u = (await apiOk('GET', '/api/users')).find((x) => x.name === S.member.name);
        assert.equal(u.disabled, true);
        const r = await apiCall('POST', '/api/auth/login', { name: S.member.name, password: S.member.password }, { token: '' });
        assert.equal(r.status, 401, 'a disabled user cannot sign in');
      }, [ACC[1]]);

      // Last of the sign-ins: the budget it spends is per client too.
      await test(ACC[4], async () => {
        const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: 'light' });
        try {
          const p2 = await ctx.newPage();
          p2.on('pageerror', (e) => pageErrors.push(e.message));
          await p2.goto(BASE + '/login');
          await p2.locator(tid('login-name')).fill(`nobody${stamp}`);
          let text = '';
          for (let i = 0; i < 30 && !/Too many attempts/.test(text); i++) {
            await p2.locator(tid('login-password')).fill(`wrong password ${i}`);
            await p2.locator(tid('login-submit')).click();
            await p2.locator(tid('login-error')).waitFor();
            await p2.waitForFunction(() => !document.querySelector('[data-testid="login-submit"]')?.textContent?.includes('Signing in'));
            text = await p2.locator(tid('login-error')).innerText();
          }
          assert.match(text, /Too many attempts, try again in \d+ s/);
          assert.ok(await p2.locator(tid('login-submit')).isDisabled(), 'no new attempt while waiting');
          assert.match(await p2.locator(tid('login-submit')).innerText(), /Wait \d+ s/);
          await shoot(p2, 'login-too-many');
        } finally {
          await ctx.close();
        }
      });
    }

    // ------------------------------------------------------------------ models
    // As the admin (the accounts tests may have left someone else signed in).
    if (accounts) {
      await go('/pipelines');
      await page.locator(`${tid('current-user')}, ${tid('login-page')}`).first().waitFor();
      if ((await page.locator(tid('current-user')).textContent().catch(() => null)) !== ADMIN.name) {
        if (await page.locator(tid('logout')).isVisible().catch(() => false)) await logout(page);
        await login(page, ADMIN.name, ADMIN.password);
      }
    }
    await runModelTests({ page, go, stamp, confirmDialog, blockNode, selectNode, generateViaApi, jobEnded, dropFile, created });

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
