import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { Link as RouterLink, useBlocker, useNavigate, useParams } from 'react-router-dom';
import {
  Background,
  Controls,
  MarkerType,
  ReactFlow,
  ReactFlowProvider,
  addEdge,
  useEdgesState,
  useNodesState,
  useReactFlow,
  type Connection,
  type Edge,
} from '@xyflow/react';
import '@xyflow/react/dist/style.css';
import { Box, Button, Flash, FormControl, IconButton, Spinner, Text, TextInput, useConfirm, useTheme } from '@primer/react';
import { ArrowLeftIcon, ScreenFullIcon, SidebarCollapseIcon, SidebarExpandIcon, WorkflowIcon } from '@primer/octicons-react';
import { api, ApiError } from '../api';
import type { BlockInfo, JsonObject, Pipeline, TemplateInfo } from '../types';
import { ErrorFlash } from '../components/common';
import { humanize } from '../lib/format';
import { Palette, DND_TYPE } from '../builder/Palette';
import { ConfigPanel } from '../builder/ConfigPanel';
import { TryIt } from '../builder/TryIt';
import { nodeTypes, type AnyNode, type BlockData, type BlockNodeT } from '../builder/nodes';
import {
  CONSTRAINT_KEYS,
  END_ID,
  START_ID,
  availableFields,
  chainFrom,
  checkPipeline,
  constraintsFromForm,
  createsCycle,
  exampleInput,
  fromForm,
  graphFromDefinition,
  layout,
  missingRequired,
  nodesPerRow,
  parseFieldPath,
  pickExample,
  templateVars,
  toForm,
} from '../builder/model';

type Tab = 'configure' | 'pipeline' | 'tryit';

const edgeDefaults = { markerEnd: { type: MarkerType.ArrowClosed }, type: 'smoothstep' as const };
const DEFAULT_TRY = '{\n  "content": "Write about the sea."\n}';
// Below this window width the palette starts folded when a pipeline of
// more than two blocks opens, so the canvas gets the room.
const NARROW = 1440;

function endpoints(): AnyNode[] {
  return [
    { id: START_ID, type: 'start', position: { x: 0, y: 120 }, data: {}, deletable: false },
    { id: END_ID, type: 'end', position: { x: 520, y: 120 }, data: {}, deletable: false },
  ];
}

function seedKeyStore(id?: string) {
  return `dgen.seedFields.${id || 'new'}`;
}

function Builder() {
  const { id } = useParams<{ id: string }>();
  const navigate = useNavigate();
  const { resolvedColorMode } = useTheme();
  const dark = resolvedColorMode === 'night' || resolvedColorMode === 'dark';
  const rf = useReactFlow<AnyNode, Edge>();

  const [blocks, setBlocks] = useState<BlockInfo[] | null>(null);
  const [loadError, setLoadError] = useState<unknown>(null);
  const [loaded, setLoaded] = useState(!id);
  const [name, setName] = useState('');
  const [nodes, setNodes, onNodesChange] = useNodesState<AnyNode>(endpoints());
  const [edges, setEdges, onEdgesChange] = useEdgesState<Edge>([]);
  const [selected, setSelected] = useState<string | null>(null);
  const [tab, setTab] = useState<Tab>('pipeline');
  const [constraintValues, setConstraintValues] = useState<Record<string, string>>({});
  const [seedFieldsText, setSeedFieldsText] = useState('');
  const [tryInput, setTryInput] = useState(DEFAULT_TRY);
  const [templates, setTemplates] = useState<TemplateInfo[]>([]);
  const [paletteOpen, setPaletteOpen] = useState(true);
  const [settingsOpen, setSettingsOpen] = useState(true);
  const canvasRef = useRef<HTMLDivElement>(null);
  const confirm = useConfirm();
  const [dirty, setDirty] = useState(false);
  const [saving, setSaving] = useState(false);
  const [saveError, setSaveError] = useState<unknown>(null);
  const [showValidation, setShowValidation] = useState(false);
  const [savedAt, setSavedAt] = useState<string | null>(null);
  const [serverErrors, setServerErrors] = useState<Record<string, { key?: string; message: string }>>({});
  const [constraintServerError, setConstraintServerError] = useState<{ key: string; message: string } | null>(null);
  const counter = useRef(1);

  const infos = useMemo(() => new Map((blocks || []).map((b) => [b.type, b])), [blocks]);
  const newId = () => {
    let nid = `n${counter.current++}`;
    while (nodes.some((n) => n.id === nid)) nid = `n${counter.current++}`;
    return nid;
  };

  // Load the block catalogue and, when editing, the saved pipeline.
  useEffect(() => {
    document.title = id ? 'Edit pipeline · dgen' : 'New pipeline · dgen';
    let cancelled = false;
    (async () => {
      try {
        const b = await api.blocks();
        if (cancelled) return;
        setBlocks(b);
        const info = new Map(b.map((x) => [x.type, x]));
        if (id) {
          const [p, tpl]: [Pipeline, TemplateInfo[]] = await Promise.all([api.pipeline(id), api.templates().catch(() => [] as TemplateInfo[])]);
          if (cancelled) return;
          setName(p.name);
          setTemplates(tpl);
          const g = graphFromDefinition(p.definition, info);
          const ns: AnyNode[] = [
            ...endpoints(),
            ...g.blocks.map((b) => ({ id: b.id, type: 'block', position: { x: 0, y: 0 }, data: { blockType: b.blockType, values: b.values, extra: b.extra } }) as BlockNodeT),
          ];
          counter.current = g.blocks.length + 1;
          const fold = window.innerWidth < NARROW && g.blocks.length > 2;
          if (fold) setPaletteOpen(false);
          const pos = layout(g.blocks.map((b) => b.id), [], 260, nodesPerRow(canvasWidth(fold ? false : paletteOpen)));
          setNodes(ns.map((n) => ({ ...n, position: pos[n.id] || n.position })));
          setEdges(g.edges.map((e) => ({ ...e, ...edgeDefaults })));
          // Try it starts from the example seed of the template this
          // pipeline came from (or one of the same kind).
          const multiplier = !!info.get(p.definition?.blocks?.[0]?.type || '')?.is_multiplier;
          const ex = pickExample(tpl, p.name, multiplier);
          if (ex) setTryInput((cur) => (cur === DEFAULT_TRY ? exampleInput(ex) || cur : cur));
          const c = p.definition?.constraints || {};
          const cv: Record<string, string> = {};
          for (const { key } of CONSTRAINT_KEYS) {
            const v = (c as Record<string, unknown>)[key];
            if (typeof v === 'number' && v !== -1) cv[key] = String(v);
          }
          setConstraintValues(cv);
          setLoaded(true);
          setTimeout(() => rf.fitView({ padding: 0.15, maxZoom: 1 }), 50);
        } else {
          api.templates().then((t) => !cancelled && setTemplates(t), () => undefined);
        }
        try {
          setSeedFieldsText(localStorage.getItem(seedKeyStore(id)) || '');
        } catch {
          /* ignore */
        }
      } catch (e) {
        if (!cancelled) setLoadError(e);
      }
    })();
    return () => {
      cancelled = true;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [id]);

  // Before the canvas is laid out (while loading) its width follows from
  // the window and the panels.
  const canvasWidth = (palette = paletteOpen) =>
    (palette === paletteOpen && canvasRef.current?.getBoundingClientRect().width) || Math.max(400, window.innerWidth - (palette ? 250 : 40) - (settingsOpen ? 380 : 40));
  const blockNodes = nodes.filter((n): n is BlockNodeT => n.type === 'block');
  const chain = useMemo(() => chainFrom(blockNodes.map((n) => n.id), edges), [blockNodes, edges]);
  const orderTypes = chain.order.map((nid) => (nodes.find((n) => n.id === nid) as BlockNodeT).data.blockType);

  // Seed fields: typed by the user, keys of the try-it JSON, and template
  // variables the prompts use that no block produces.
  const seedKeys = useMemo(() => {
    const out: string[] = [];
    const add = (k: string) => {
      if (k && !out.includes(k)) out.push(k);
    };
    seedFieldsText.split(/[,\s]+/).forEach((s) => add(s.trim()));
    try {
      const j = JSON.parse(tryInput);
      if (j && typeof j === 'object' && !Array.isArray(j)) Object.keys(j).forEach(add);
    } catch {
      /* ignore while typing */
    }
    const produced = new Set<string>();
    for (const t of orderTypes) for (const o of infos.get(t)?.outputs || []) produced.add(o);
    for (const n of blockNodes) {
      for (const v of Object.values(n.data.values)) if (typeof v === 'string') templateVars(v).filter((x) => !produced.has(x)).forEach(add);
    }
    return out;
  }, [seedFieldsText, tryInput, orderTypes, infos, blockNodes]);

  const perNode = useMemo(() => {
    const m = new Map<string, { missing: string[]; errors: Record<string, string>; config: JsonObject }>();
    for (const n of blockNodes) {
      const schema = infos.get(n.data.blockType)?.config_schema || {};
      const { config, errors } = fromForm(n.data.values, schema, n.data.extra);
      m.set(n.id, { missing: missingRequired(n.data.values, schema), errors, config });
    }
    return m;
  }, [blockNodes, infos]);

  const displayNodes = useMemo(
    () =>
      nodes.map((n) => {
        if (n.type !== 'block') return n;
        const info = infos.get(n.data.blockType);
        const st = perNode.get(n.id);
        const pos = chain.order.indexOf(n.id);
        return {
          ...n,
          className: 'dgen-node',
          data: {
            ...n.data,
            view: {
              name: info?.name || n.data.blockType,
              category: info?.category || '',
              unknown: !!blocks && !info,
              missing: st?.missing || [],
              invalid: !!st && Object.keys(st.errors).length > 0,
              connected: pos >= 0,
              misplaced: !!info?.is_multiplier && pos > 0,
              position: pos >= 0 ? pos + 1 : undefined,
              serverError: serverErrors[n.id]?.message,
            },
          },
        } as BlockNodeT;
      }),
    [nodes, infos, perNode, chain, serverErrors, blocks],
  );

  const touch = () => {
    setDirty(true);
    setSavedAt(null);
  };

  const addBlock = useCallback(
    (type: string, position?: { x: number; y: number }, appendToChain = false) => {
      const info = infos.get(type);
      const nid = newId();
      const data: BlockData = { blockType: type, values: toForm({}, info?.config_schema || {}), extra: {} };
      let pos = position;
      if (!pos) {
        const last = chain.order.length ? nodes.find((n) => n.id === chain.order[chain.order.length - 1]) : nodes.find((n) => n.id === START_ID);
        pos = { x: (last?.position.x || 0) + 260, y: 100 };
      }
      setNodes((ns) => {
        const moved = appendToChain ? ns.map((n) => (n.id === END_ID ? { ...n, position: { x: pos!.x + 260, y: n.position.y } } : n)) : ns;
        return [...moved.map((n) => ({ ...n, selected: false })), { id: nid, type: 'block', position: pos!, data, selected: true } as BlockNodeT];
      });
      if (appendToChain) {
        const tail = chain.order.length ? chain.order[chain.order.length - 1] : START_ID;
        setEdges((es) => [
          ...es.filter((e) => e.source !== tail && e.target !== END_ID),
          { id: `e-${tail}-${nid}`, source: tail, target: nid, ...edgeDefaults },
          { id: `e-${nid}-${END_ID}`, source: nid, target: END_ID, ...edgeDefaults },
        ]);
        // Keep the new block and End in view.
        setTimeout(() => rf.fitView({ padding: 0.2, maxZoom: 1, duration: 0 }), 50);
      }
      setSelected(nid);
      setTab('configure');
      touch();
    },
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [infos, chain, nodes],
  );

  const onDrop = (e: React.DragEvent) => {
    e.preventDefault();
    const type = e.dataTransfer.getData(DND_TYPE) || e.dataTransfer.getData('text/plain');
    if (!type || !infos.has(type)) return;
    const pos = rf.screenToFlowPosition({ x: e.clientX, y: e.clientY });
    addBlock(type, { x: pos.x - 95, y: pos.y - 30 });
  };

  // One edge out of and one edge into every node: a new connection
  // replaces the old ones, so the graph stays a single chain.
  const onConnect = useCallback(
    (c: Connection) => {
      setEdges((es) => addEdge({ ...c, id: `e-${c.source}-${c.target}`, ...edgeDefaults }, es.filter((e) => e.source !== c.source && e.target !== c.target)));
      touch();
    },
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [setEdges],
  );
  const isValidConnection = useCallback(
    (c: Connection | Edge) => !!c.source && !!c.target && c.source !== END_ID && c.target !== START_ID && !createsCycle(edges.filter((e) => e.source !== c.source), c.source, c.target),
    [edges],
  );

  const deleteNode = (nid: string) => {
    setNodes((ns) => ns.filter((n) => n.id !== nid));
    setEdges((es) => es.filter((e) => e.source !== nid && e.target !== nid));
    setSelected(null);
    setServerErrors((s) => {
      const { [nid]: _drop, ...rest } = s;
      void _drop;
      return rest;
    });
    touch();
  };

  const duplicateNode = (nid: string) => {
    const n = nodes.find((x) => x.id === nid) as BlockNodeT | undefined;
    if (!n) return;
    const id2 = newId();
    setNodes((ns) => [
      ...ns.map((x) => ({ ...x, selected: false })),
      { id: id2, type: 'block', position: { x: n.position.x + 40, y: n.position.y + 140 }, data: { ...n.data, values: { ...n.data.values }, extra: { ...n.data.extra } }, selected: true } as BlockNodeT,
    ]);
    setSelected(id2);
    touch();
  };

  const autoLayout = () => {
    const pos = layout(chain.order, chain.unconnected, 260, nodesPerRow(canvasWidth()));
    setNodes((ns) => ns.map((n) => ({ ...n, position: pos[n.id] || n.position })));
    setTimeout(() => rf.fitView({ padding: 0.15, maxZoom: 1 }), 30);
  };

  const setValue = (nid: string, key: string, value: string | boolean) => {
    setNodes((ns) => ns.map((n) => (n.id === nid && n.type === 'block' ? ({ ...n, data: { ...n.data, values: { ...n.data.values, [key]: value } } } as BlockNodeT) : n)));
    setServerErrors((s) => {
      if (!s[nid]) return s;
      const { [nid]: _drop, ...rest } = s;
      void _drop;
      return rest;
    });
    touch();
  };

  // Live: recomputed on every change, shown once a save was tried, gone
  // as soon as nothing is wrong any more.
  const check = useMemo(
    () =>
      checkPipeline(
        name,
        blockNodes.map((n) => ({ id: n.id, blockType: n.data.blockType, values: n.data.values, extra: n.data.extra })),
        edges,
        infos,
        constraintValues,
      ),
    [name, blockNodes, edges, infos, constraintValues],
  );
  const validation = showValidation ? check.messages : [];

  const save = async () => {
    setShowValidation(true);
    setSaveError(null);
    setConstraintServerError(null);
    const def = check.definition;
    if (!def) return;
    setSaving(true);
    try {
      const r = id ? await api.updatePipeline(id, def) : await api.createPipeline(def);
      setServerErrors({});
      setDirty(false);
      setSavedAt(new Date().toLocaleTimeString());
      if (!id) {
        try {
          localStorage.setItem(seedKeyStore(r.id), seedFieldsText);
        } catch {
          /* ignore */
        }
        savedNav.current = true;
        navigate(`/pipelines/${r.id}/edit`, { replace: true });
      }
    } catch (e) {
      setSaveError(e);
      // Point the server's field path at the node (or constraint) it names.
      if (e instanceof ApiError) {
        const fp = parseFieldPath(e.field);
        if (fp && fp.blockIndex !== undefined && chain.order[fp.blockIndex]) {
          const nid = chain.order[fp.blockIndex];
          setServerErrors({ [nid]: { key: fp.configKey, message: humanize(e.message) } });
          setNodes((ns) => ns.map((n) => ({ ...n, selected: n.id === nid })));
          setSelected(nid);
          setTab('configure');
        } else if (fp?.constraint) {
          setConstraintServerError({ key: fp.constraint, message: humanize(e.message) });
          setTab('pipeline');
        }
      }
    } finally {
      setSaving(false);
    }
  };

  // Unsaved changes: leaving through the app asks first; closing or
  // reloading the tab gets the browser's own prompt.
  const savedNav = useRef(false);
  const blocker = useBlocker(({ currentLocation, nextLocation }) => dirty && !savedNav.current && currentLocation.pathname !== nextLocation.pathname);
  useEffect(() => {
    if (blocker.state !== 'blocked') return;
    confirm({
      title: 'Leave without saving?',
      content: 'This pipeline has changes that are not saved. They will be lost.',
      confirmButtonContent: 'Leave',
      cancelButtonContent: 'Stay',
      confirmButtonType: 'danger',
    }).then((leave) => (leave ? blocker.proceed() : blocker.reset()));
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [blocker.state]);
  useEffect(() => {
    if (!dirty) return;
    const onBeforeUnload = (e: BeforeUnloadEvent) => {
      e.preventDefault();
      e.returnValue = '';
    };
    window.addEventListener('beforeunload', onBeforeUnload);
    return () => window.removeEventListener('beforeunload', onBeforeUnload);
  }, [dirty]);

  useEffect(() => {
    try {
      localStorage.setItem(seedKeyStore(id), seedFieldsText);
    } catch {
      /* ignore */
    }
  }, [seedFieldsText, id]);

  const selNode = selected ? (nodes.find((n) => n.id === selected && n.type === 'block') as BlockNodeT | undefined) : undefined;
  const selIndex = selNode ? chain.order.indexOf(selNode.id) : -1;
  const selFields = selNode ? availableFields(orderTypes, selIndex >= 0 ? selIndex : orderTypes.length, seedKeys, infos) : [];

  if (loadError) {
    return (
      <Box sx={{ p: 4 }}>
        <ErrorFlash error={loadError} testid="builder-load-error" />
        <RouterLink to="/pipelines">Back to pipelines</RouterLink>
      </Box>
    );
  }
  if (!blocks || !loaded) {
    return (
      <Box sx={{ p: 4 }}>
        <Spinner />
      </Box>
    );
  }

  const tabButton = (t: Tab, label: string) => (
    <Button size="small" variant={tab === t ? 'primary' : 'default'} onClick={() => setTab(t)} data-testid={`tab-${t}`} aria-pressed={tab === t}>
      {label}
    </Button>
  );

  return (
    <Box data-testid="builder-page" sx={{ display: 'flex', flexDirection: 'column', height: 'calc(100vh - 49px)', minHeight: 480 }}>
      <Box sx={{ display: 'flex', alignItems: 'flex-end', gap: 2, px: 3, py: 2, borderBottom: '1px solid', borderColor: 'border.default', flexWrap: 'wrap' }}>
        <Button as={RouterLink} to="/pipelines" size="small" variant="invisible" leadingVisual={ArrowLeftIcon} aria-label="Back to pipelines">
          Pipelines
        </Button>
        <FormControl sx={{ minWidth: 280 }}>
          <FormControl.Label>Pipeline name</FormControl.Label>
          <TextInput
            value={name}
            onChange={(e) => {
              setName(e.target.value);
              touch();
            }}
            placeholder="My pipeline"
            data-testid="pipeline-name-input"
            block
          />
        </FormControl>
        <Button onClick={autoLayout} leadingVisual={WorkflowIcon} data-testid="auto-layout">
          Auto-layout
        </Button>
        <Button onClick={() => rf.fitView({ padding: 0.15, maxZoom: 1, duration: 200 })} leadingVisual={ScreenFullIcon} data-testid="fit-view">
          Fit to view
        </Button>
        <Button variant="primary" onClick={save} disabled={saving} data-testid="save-pipeline">
          {saving ? 'Saving…' : id ? 'Save' : 'Create'}
        </Button>
        <Text sx={{ color: 'fg.muted', fontSize: 1, pb: 1 }} data-testid="save-status" aria-live="polite">
          {savedAt ? `Saved at ${savedAt}` : dirty ? 'Unsaved changes' : id ? 'Saved' : 'Not saved yet'}
        </Text>
        {id ? (
          <Box sx={{ ml: 'auto', pb: 1 }}>
            <RouterLink to={`/generator?pipeline_id=${encodeURIComponent(id)}`}>Generate with this pipeline →</RouterLink>
          </Box>
        ) : null}
      </Box>
      {validation.length ? (
        <Flash variant="danger" sx={{ mx: 3, mt: 2 }} data-testid="validation-errors" role="alert">
          <Text sx={{ fontWeight: 'bold' }}>The pipeline cannot be saved yet:</Text>
          <Box as="ul" sx={{ m: 0, pl: 3 }}>
            {validation.map((m, i) => (
              <li key={i}>{m}</li>
            ))}
          </Box>
        </Flash>
      ) : null}
      {saveError ? (
        <Box sx={{ mx: 3 }}>
          <ErrorFlash error={saveError} testid="save-error" onDismiss={() => setSaveError(null)} />
        </Box>
      ) : null}
      <Box sx={{ display: 'flex', flex: 1, minHeight: 0 }}>
        <Box
          sx={{ width: paletteOpen ? 250 : 40, flexShrink: 0, borderRight: '1px solid', borderColor: 'border.default', display: 'flex', flexDirection: 'column', minHeight: 0 }}
          data-testid="palette-panel"
          data-open={paletteOpen}
        >
          <Box sx={{ display: 'flex', justifyContent: paletteOpen ? 'flex-end' : 'center', p: 1 }}>
            <IconButton
              icon={paletteOpen ? SidebarExpandIcon : SidebarCollapseIcon}
              size="small"
              variant="invisible"
              aria-label={paletteOpen ? 'Hide the block palette' : 'Show the block palette'}
              aria-expanded={paletteOpen}
              onClick={() => {
                setPaletteOpen((o) => !o);
                setTimeout(() => rf.fitView({ padding: 0.15, maxZoom: 1 }), 50);
              }}
              data-testid="toggle-palette"
            />
          </Box>
          {paletteOpen ? <Palette blocks={blocks} onAdd={(t) => addBlock(t, undefined, true)} /> : null}
        </Box>
        <Box
          ref={canvasRef}
          sx={{ flex: 1, minWidth: 0, position: 'relative' }}
          data-testid="canvas"
          onDragOver={(e: React.DragEvent) => {
            e.preventDefault();
            e.dataTransfer.dropEffect = 'move';
          }}
          onDrop={onDrop}
          role="region"
          aria-label="Pipeline canvas: drop blocks here and connect Start to End"
        >
          <ReactFlow<AnyNode, Edge>
            nodes={displayNodes}
            edges={edges}
            nodeTypes={nodeTypes}
            onNodesChange={(ch) => {
              onNodesChange(ch);
              if (ch.some((c) => c.type === 'remove')) {
                touch();
                setSelected(null);
              }
            }}
            onEdgesChange={(ch) => {
              onEdgesChange(ch);
              if (ch.some((c) => c.type === 'remove')) touch();
            }}
            onConnect={onConnect}
            isValidConnection={isValidConnection}
            onNodeClick={(_, n) => {
              if (n.type === 'block') {
                setSelected(n.id);
                setTab('configure');
                setSettingsOpen(true);
              }
            }}
            onPaneClick={() => setSelected(null)}
            deleteKeyCode={['Delete', 'Backspace']}
            colorMode={dark ? 'dark' : 'light'}
            defaultEdgeOptions={edgeDefaults}
            fitView
            fitViewOptions={{ padding: 0.15, maxZoom: 1 }}
            minZoom={0.2}
            proOptions={{ hideAttribution: true }}
          >
            <Background />
            <Controls />
          </ReactFlow>
        </Box>
        <Box
          as="aside"
          aria-label="Settings"
          sx={{
            width: settingsOpen ? (tab === 'tryit' ? 480 : 380) : 40,
            flexShrink: 0,
            borderLeft: '1px solid',
            borderColor: 'border.default',
            display: 'flex',
            flexDirection: 'column',
            minHeight: 0,
          }}
          data-testid="settings-panel"
          data-open={settingsOpen}
        >
          <Box sx={{ display: 'flex', gap: 1, p: 2, borderBottom: settingsOpen ? '1px solid' : 'none', borderColor: 'border.default', flexDirection: settingsOpen ? 'row' : 'column', alignItems: 'center' }}>
            <IconButton
              icon={settingsOpen ? SidebarCollapseIcon : SidebarExpandIcon}
              size="small"
              variant="invisible"
              aria-label={settingsOpen ? 'Hide the settings panel' : 'Show the settings panel'}
              aria-expanded={settingsOpen}
              onClick={() => {
                setSettingsOpen((o) => !o);
                setTimeout(() => rf.fitView({ padding: 0.15, maxZoom: 1 }), 50);
              }}
              data-testid="toggle-settings"
            />
            {settingsOpen ? (
              <>
                {tabButton('configure', 'Block')}
                {tabButton('pipeline', 'Pipeline')}
                {tabButton('tryit', 'Try it')}
              </>
            ) : null}
          </Box>
          <Box sx={{ p: 3, overflow: 'auto', flex: 1, display: settingsOpen ? 'block' : 'none' }}>
            {tab === 'configure' ? (
              selNode ? (
                <ConfigPanel
                  key={selNode.id}
                  nodeId={selNode.id}
                  blockType={selNode.data.blockType}
                  info={infos.get(selNode.data.blockType)}
                  values={selNode.data.values}
                  fields={selFields}
                  errors={perNode.get(selNode.id)?.errors || {}}
                  serverError={serverErrors[selNode.id]}
                  onChange={(k, v) => setValue(selNode.id, k, v)}
                  onDelete={() => deleteNode(selNode.id)}
                  onDuplicate={() => duplicateNode(selNode.id)}
                />
              ) : (
                <Text sx={{ color: 'fg.muted' }} data-testid="config-empty">
                  Select a block on the canvas to configure it. Drag blocks from the palette, then connect Start → blocks → End: the pipeline runs in the
                  order of the connections.
                </Text>
              )
            ) : null}
            {tab === 'pipeline' ? (
              <Box sx={{ display: 'flex', flexDirection: 'column', gap: 3 }} data-testid="pipeline-panel">
                <FormControl>
                  <FormControl.Label>Seed fields</FormControl.Label>
                  <TextInput
                    value={seedFieldsText}
                    onChange={(e) => setSeedFieldsText(e.target.value)}
                    placeholder="content, topic"
                    data-testid="seed-fields"
                    block
                  />
                  <FormControl.Caption>
                    Metadata keys your seeds carry, comma separated. They appear in field pickers.
                    {seedKeys.length ? ` Known now: ${seedKeys.join(', ')}.` : ''}
                  </FormControl.Caption>
                </FormControl>
                <Box as="h3" sx={{ fontSize: 1, m: 0 }}>
                  Constraints
                </Box>
                <Text sx={{ fontSize: 0, color: 'fg.muted' }}>A job stops when one is exceeded. Empty or -1 = unlimited.</Text>
                {CONSTRAINT_KEYS.map(({ key, label, unit }) => {
                  const err = constraintServerError?.key === key ? constraintServerError.message : constraintsFromForm(constraintValues).errors[key];
                  return (
                    <FormControl key={key}>
                      <FormControl.Label>
                        {label}
                        {unit ? ` (${unit})` : ''}
                      </FormControl.Label>
                      <TextInput
                        type="number"
                        value={constraintValues[key] ?? ''}
                        placeholder="unlimited"
                        onChange={(e) => {
                          setConstraintValues((c) => ({ ...c, [key]: e.target.value }));
                          setConstraintServerError(null);
                          touch();
                        }}
                        data-testid={`constraint-${key}`}
                        block
                      />
                      {err ? <FormControl.Validation variant="error">{err}</FormControl.Validation> : null}
                    </FormControl>
                  );
                })}
              </Box>
            ) : null}
            {tab === 'tryit' ? <TryIt pipelineId={id} dirty={dirty} input={tryInput} setInput={setTryInput} templates={templates} /> : null}
          </Box>
        </Box>
      </Box>
    </Box>
  );
}

export default function BuilderPage() {
  const { id } = useParams<{ id: string }>();
  // A fresh provider per pipeline so switching from /new to /{id}/edit reloads.
  return (
    <ReactFlowProvider key={id || 'new'}>
      <Builder />
    </ReactFlowProvider>
  );
}
