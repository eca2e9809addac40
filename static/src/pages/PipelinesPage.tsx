import { useCallback, useEffect, useState } from 'react';
import { Link as RouterLink, useNavigate } from 'react-router-dom';
import { Box, Button, Flash, Label, Spinner, Text, useConfirm } from '@primer/react';
import { DownloadIcon, PencilIcon, PlusIcon, TrashIcon } from '@primer/octicons-react';
import { api } from '../api';
import type { Pipeline, TemplateInfo } from '../types';
import { ErrorFlash, PageTitle } from '../components/common';
import { downloadText, fmtTime } from '../lib/format';

// A template's example seed comes as parsed JSON or as text (markdown for a
// multiplier template); pick the file type from its content.
function seedFile(t: TemplateInfo): { name: string; text: string; type: string } | null {
  const s = t.example_seed;
  if (s === undefined || s === null) return null;
  if (typeof s === 'string') {
    const trimmed = s.trim();
    if (trimmed.startsWith('[') || trimmed.startsWith('{')) {
      try {
        JSON.parse(trimmed);
        return { name: `seed_${t.id}.json`, text: s, type: 'application/json' };
      } catch {
        /* not JSON: fall through to markdown */
      }
    }
    return { name: `seed_${t.id}.md`, text: s, type: 'text/markdown' };
  }
  return { name: `seed_${t.id}.json`, text: JSON.stringify(s, null, 2) + '\n', type: 'application/json' };
}

export default function PipelinesPage() {
  const [templates, setTemplates] = useState<TemplateInfo[] | null>(null);
  const [pipelines, setPipelines] = useState<Pipeline[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [notice, setNotice] = useState<{ id: string; name: string } | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const confirm = useConfirm();
  const navigate = useNavigate();

  const load = useCallback(async () => {
    try {
      const [t, p] = await Promise.all([api.templates(), api.pipelines()]);
      setTemplates(t);
      setPipelines(p);
    } catch (e) {
      setError(e);
      setTemplates((x) => x ?? []);
      setPipelines((x) => x ?? []);
    }
  }, []);

  useEffect(() => {
    document.title = 'Pipelines · dgen';
    load();
  }, [load]);

  const createFromTemplate = async (t: TemplateInfo) => {
    setBusy(t.id);
    setError(null);
    try {
      const r = await api.fromTemplate(t.id);
      setNotice({ id: r.id, name: r.name });
      await load();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(null);
    }
  };

  const remove = async (p: Pipeline) => {
    const ok = await confirm({
      title: 'Delete pipeline?',
      content: `“${p.name}” and all its jobs and records will be deleted. This cannot be undone.`,
      confirmButtonContent: 'Delete',
      confirmButtonType: 'danger',
    });
    if (!ok) return;
    setError(null);
    try {
      await api.deletePipeline(p.id);
      await load();
    } catch (e) {
      setError(e);
    }
  };

  return (
    <Box sx={{ p: 4, maxWidth: 1200, width: '100%', mx: 'auto' }} data-testid="pipelines-page">
      <PageTitle
        actions={
          <Button variant="primary" leadingVisual={PlusIcon} onClick={() => navigate('/pipelines/new')} data-testid="new-pipeline">
            New pipeline
          </Button>
        }
      >
        Pipelines
      </PageTitle>
      <ErrorFlash error={error} onDismiss={() => setError(null)} />
      {notice ? (
        <Flash variant="success" sx={{ mb: 3 }} data-testid="template-created">
          Created pipeline “{notice.name}”.{' '}
          <RouterLink to={`/pipelines/${notice.id}/edit`}>Open it in the builder</RouterLink>
        </Flash>
      ) : null}

      <Box as="section" aria-labelledby="templates-h" sx={{ mb: 4 }}>
        <Box as="h2" id="templates-h" sx={{ fontSize: 2, mb: 2 }}>
          Start from a template
        </Box>
        {templates === null ? (
          <Spinner size="small" />
        ) : templates.length === 0 ? (
          <Text sx={{ color: 'fg.muted' }}>No templates installed.</Text>
        ) : (
          <Box sx={{ display: 'grid', gridTemplateColumns: 'repeat(auto-fill, minmax(260px, 1fr))', gap: 3 }}>
            {templates.map((t) => {
              const seed = seedFile(t);
              return (
                <Box
                  key={t.id}
                  data-testid={`template-card-${t.id}`}
                  sx={{ border: '1px solid', borderColor: 'border.default', borderRadius: 2, p: 3, bg: 'canvas.subtle', display: 'flex', flexDirection: 'column', gap: 2 }}
                >
                  <Text sx={{ fontWeight: 'bold', fontSize: 2 }}>{t.name}</Text>
                  <Text sx={{ color: 'fg.muted', flex: 1 }}>{t.description}</Text>
                  <Box sx={{ display: 'flex', gap: 2, flexWrap: 'wrap' }}>
                    <Button
                      size="small"
                      variant="primary"
                      onClick={() => createFromTemplate(t)}
                      disabled={busy !== null}
                      data-testid={`use-template-${t.id}`}
                    >
                      {busy === t.id ? 'Creating…' : 'Use template'}
                    </Button>
                    {seed ? (
                      <Button
                        size="small"
                        leadingVisual={DownloadIcon}
                        onClick={() => downloadText(seed.name, seed.text, seed.type)}
                        data-testid={`download-seed-${t.id}`}
                      >
                        Example seed
                      </Button>
                    ) : null}
                  </Box>
                </Box>
              );
            })}
          </Box>
        )}
      </Box>

      <Box as="section" aria-labelledby="pipelines-h">
        <Box as="h2" id="pipelines-h" sx={{ fontSize: 2, mb: 2 }}>
          Your pipelines
        </Box>
        {pipelines === null ? (
          <Spinner size="small" />
        ) : pipelines.length === 0 ? (
          <Text sx={{ color: 'fg.muted' }} data-testid="no-pipelines">
            No pipelines yet. Start from a template or build a new one.
          </Text>
        ) : (
          <Box as="ul" sx={{ listStyle: 'none', p: 0, m: 0, border: '1px solid', borderColor: 'border.default', borderRadius: 2 }} data-testid="pipeline-list">
            {pipelines.map((p, i) => (
              <Box
                as="li"
                key={p.id}
                data-testid="pipeline-row"
                data-pipeline-id={p.id}
                sx={{ display: 'flex', alignItems: 'center', gap: 3, p: 3, borderTop: i ? '1px solid' : 'none', borderColor: 'border.default' }}
              >
                <Box sx={{ flex: 1, minWidth: 0 }}>
                  <RouterLink to={`/pipelines/${p.id}/edit`} data-testid="pipeline-name">
                    <Text sx={{ fontWeight: 'bold' }}>{p.name}</Text>
                  </RouterLink>{' '}
                  <Text sx={{ color: 'fg.muted', fontSize: 0, fontFamily: 'mono' }} data-testid="pipeline-id" title="Pipeline id">
                    #{p.id}
                  </Text>
                  <Box sx={{ display: 'flex', gap: 1, flexWrap: 'wrap', mt: 1 }}>
                    {(p.definition?.blocks || []).map((b, j) => (
                      <Label key={j} variant="secondary">
                        {b.type}
                      </Label>
                    ))}
                  </Box>
                </Box>
                <Text sx={{ color: 'fg.muted', fontSize: 0 }}>updated {fmtTime(p.updated_at)}</Text>
                <Button size="small" leadingVisual={PencilIcon} onClick={() => navigate(`/pipelines/${p.id}/edit`)} data-testid="edit-pipeline" aria-label={`Edit ${p.name}`}>
                  Edit
                </Button>
                <Button size="small" variant="danger" leadingVisual={TrashIcon} onClick={() => remove(p)} data-testid="delete-pipeline" aria-label={`Delete ${p.name}`}>
                  Delete
                </Button>
              </Box>
            ))}
          </Box>
        )}
      </Box>
    </Box>
  );
}
