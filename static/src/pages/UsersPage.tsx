import { useCallback, useEffect, useReducer, useState } from 'react';
import { Box, Button, FormControl, Label, Select, Spinner, Text, TextInput } from '@primer/react';
import { Dialog } from '@primer/react/drafts';
import { KeyIcon, PersonAddIcon } from '@primer/octicons-react';
import { api } from '../api';
import type { Role, Token, UserInfo } from '../types';
import { ErrorFlash, PageTitle } from '../components/common';
import { TokenRevealDialog, TokenTable } from '../components/tokens';
import { fmtTime } from '../lib/format';
import { REVEAL_NONE, passwordProblem, quotaChanges, quotaLabel, revealReducer } from '../lib/auth';
import { useAuth } from '../auth/AuthProvider';

function NewUserForm({ onCreated }: { onCreated: () => void }) {
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [role, setRole] = useState<Role>('member');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const problem = password ? passwordProblem(password) : null;
  const submit = async (ev: React.FormEvent) => {
    ev.preventDefault();
    if (busy || !name.trim() || passwordProblem(password)) return;
    setBusy(true);
    setError(null);
    try {
      await api.createUser(name.trim(), password, role);
      setName('');
      setPassword('');
      setRole('member');
      onCreated();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Box as="form" onSubmit={submit} aria-label="New user" sx={{ p: 3, mb: 4, border: '1px solid', borderColor: 'border.default', borderRadius: 2, bg: 'canvas.subtle' }}>
      <Box as="h2" sx={{ fontSize: 2, mt: 0, mb: 2 }}>
        Add a user
      </Box>
      <ErrorFlash error={error} testid="new-user-error" onDismiss={() => setError(null)} />
      <Box sx={{ display: 'flex', gap: 3, alignItems: 'flex-start', flexWrap: 'wrap' }}>
        <FormControl required>
          <FormControl.Label>Name</FormControl.Label>
          <TextInput value={name} onChange={(e) => setName(e.target.value)} autoComplete="off" data-testid="new-user-name" sx={{ width: 200 }} />
        </FormControl>
        <FormControl required>
          <FormControl.Label>Password</FormControl.Label>
          <TextInput
            type="password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            autoComplete="new-password"
            data-testid="new-user-password"
            sx={{ width: 240 }}
            validationStatus={problem ? 'error' : undefined}
          />
          {problem ? (
            <FormControl.Validation variant="error">{problem}</FormControl.Validation>
          ) : (
            <FormControl.Caption>12 characters or more.</FormControl.Caption>
          )}
        </FormControl>
        <FormControl>
          <FormControl.Label>Role</FormControl.Label>
          <Select value={role} onChange={(e) => setRole(e.target.value as Role)} data-testid="new-user-role">
            <Select.Option value="member">member</Select.Option>
            <Select.Option value="admin">admin</Select.Option>
          </Select>
        </FormControl>
        <Box sx={{ pt: '24px' }}>
          <Button type="submit" variant="primary" leadingVisual={PersonAddIcon} disabled={busy || !name.trim() || !!passwordProblem(password)} data-testid="create-user">
            {busy ? 'Adding…' : 'Add user'}
          </Button>
        </Box>
      </Box>
    </Box>
  );
}

function PasswordDialog({ user, onClose }: { user: UserInfo; onClose: (changed: boolean) => void }) {
  const [password, setPassword] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const problem = password ? passwordProblem(password) : null;
  const save = async () => {
    if (busy || passwordProblem(password)) return;
    setBusy(true);
    setError(null);
    try {
      await api.updateUser(user.name, { password });
      onClose(true);
    } catch (e) {
      setError(e);
      setBusy(false);
    }
  };
  return (
    <Dialog
      title={`New password for ${user.name}`}
      onClose={() => onClose(false)}
      footerButtons={[
        { content: 'Cancel', onClick: () => onClose(false) },
        { buttonType: 'primary', content: busy ? 'Saving…' : 'Set password', onClick: save, disabled: busy || !!passwordProblem(password), 'data-testid': 'save-password' } as never,
      ]}
    >
      <Box data-testid="password-dialog">
        <ErrorFlash error={error} />
        <FormControl required>
          <FormControl.Label>New password</FormControl.Label>
          <TextInput
            block
            type="password"
            autoComplete="new-password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === 'Enter') save();
            }}
            data-testid="reset-password-input"
            validationStatus={problem ? 'error' : undefined}
          />
          {problem ? <FormControl.Validation variant="error">{problem}</FormControl.Validation> : <FormControl.Caption>12 characters or more. Their sessions keep working until they sign out.</FormControl.Caption>}
        </FormControl>
      </Box>
    </Dialog>
  );
}

function EditDialog({ user, self, onClose }: { user: UserInfo; self: boolean; onClose: (changed: boolean) => void }) {
  const before = user.quotas || {};
  const [fields, setFields] = useState<Record<string, string>>(() =>
    Object.fromEntries(Object.entries(before).map(([k, v]) => [k, v === null || v === undefined ? '' : String(v)])),
  );
  const [role, setRole] = useState<Role>(user.role);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const parsed = quotaChanges(before, fields);
  const save = async () => {
    if (busy || 'bad' in parsed) return;
    const body: { role?: Role; quotas?: Record<string, number> } = {};
    if (role !== user.role) body.role = role;
    if (Object.keys(parsed.changes).length) body.quotas = parsed.changes;
    if (!body.role && !body.quotas) {
      onClose(false);
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await api.updateUser(user.name, body);
      onClose(true);
    } catch (e) {
      setError(e);
      setBusy(false);
    }
  };
  return (
    <Dialog
      title={`Edit ${user.name}`}
      subtitle="Quotas bound what this user can run; past one, the server answers 429 naming it."
      onClose={() => onClose(false)}
      footerButtons={[
        { content: 'Cancel', onClick: () => onClose(false) },
        { buttonType: 'primary', content: busy ? 'Saving…' : 'Save', onClick: save, disabled: busy || 'bad' in parsed, 'data-testid': 'save-user' } as never,
      ]}
    >
      <Box data-testid="edit-user-dialog" sx={{ display: 'flex', flexDirection: 'column', gap: 3 }}>
        <ErrorFlash error={error} />
        <FormControl disabled={self}>
          <FormControl.Label>Role</FormControl.Label>
          <Select value={role} onChange={(e) => setRole(e.target.value as Role)} data-testid="edit-role">
            <Select.Option value="member">member</Select.Option>
            <Select.Option value="admin">admin</Select.Option>
          </Select>
          {self ? <FormControl.Caption>You cannot change your own role.</FormControl.Caption> : null}
        </FormControl>
        {Object.keys(fields).map((k) => {
          const bad = 'bad' in parsed && parsed.bad === k;
          return (
            <FormControl key={k}>
              <FormControl.Label>{quotaLabel(k)}</FormControl.Label>
              <TextInput
                inputMode="numeric"
                value={fields[k]}
                onChange={(e) => setFields((f) => ({ ...f, [k]: e.target.value }))}
                data-testid={`quota-${k}`}
                validationStatus={bad ? 'error' : undefined}
              />
              {bad ? <FormControl.Validation variant="error">A whole number, 0 or more.</FormControl.Validation> : null}
            </FormControl>
          );
        })}
      </Box>
    </Dialog>
  );
}

// One user's API tokens, for an admin: list, revoke, and create one in
// their name (shown once, like one's own).
function UserTokens({ user }: { user: UserInfo }) {
  const [tokens, setTokens] = useState<Token[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [reveal, dispatch] = useReducer(revealReducer, REVEAL_NONE);
  const load = useCallback(async () => {
    try {
      setTokens(await api.tokens(user.name));
    } catch (e) {
      setError(e);
      setTokens((t) => t ?? []);
    }
  }, [user.name]);
  useEffect(() => {
    load();
  }, [load]);
  const create = async () => {
    setError(null);
    try {
      const t = await api.createToken(`${user.name}-by-admin-${Date.now().toString(36)}`, null, user.name);
      dispatch({ type: 'created', token: t.token, name: t.name });
      await load();
    } catch (e) {
      setError(e);
    }
  };
  return (
    <Box data-testid="user-tokens" sx={{ p: 3, bg: 'canvas.inset', borderRadius: 2 }}>
      <Box sx={{ display: 'flex', alignItems: 'center', mb: 2 }}>
        <Text sx={{ fontWeight: 'bold', flex: 1 }}>API tokens of {user.name}</Text>
        <Button size="small" leadingVisual={KeyIcon} onClick={create} data-testid="create-user-token">
          New token for {user.name}
        </Button>
      </Box>
      <ErrorFlash error={error} onDismiss={() => setError(null)} />
      {tokens === null ? <Spinner size="small" /> : <TokenTable tokens={tokens} onChanged={load} />}
      <TokenRevealDialog reveal={reveal} onCopied={() => dispatch({ type: 'copied' })} onClose={() => dispatch({ type: 'closed' })} />
    </Box>
  );
}

// The admin's page of users: add, disable/enable, reset a password, edit
// role and quotas, and see or revoke each user's tokens.
export default function UsersPage() {
  const { state } = useAuth();
  const admin = state.kind === 'user' && state.user.role === 'admin';
  const self = state.kind === 'user' ? state.user.name : '';
  const [users, setUsers] = useState<UserInfo[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [dialog, setDialog] = useState<{ kind: 'password' | 'edit'; user: UserInfo } | null>(null);
  const [open, setOpen] = useState<string | null>(null);
  const [busy, setBusy] = useState<string | null>(null);

  const load = useCallback(async () => {
    try {
      setUsers(await api.users());
    } catch (e) {
      setError(e);
      setUsers((u) => u ?? []);
    }
  }, []);

  useEffect(() => {
    document.title = 'Users · dgen';
    if (admin) load();
  }, [admin, load]);

  if (!admin) {
    return (
      <Box sx={{ p: 4, maxWidth: 640, mx: 'auto' }} data-testid="users-forbidden">
        <PageTitle>Users</PageTitle>
        <Text as="p">Only an admin can manage users.</Text>
      </Box>
    );
  }

  const toggle = async (u: UserInfo) => {
    setBusy(u.name);
    setError(null);
    try {
      await api.updateUser(u.name, { disabled: !u.disabled });
      await load();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(null);
    }
  };

  const closeDialog = (changed: boolean) => {
    setDialog(null);
    if (changed) load();
  };

  const th = { textAlign: 'left', p: 2, fontWeight: 'bold', color: 'fg.muted', fontSize: 0, borderBottom: '1px solid', borderColor: 'border.default' } as const;
  const td = { p: 2, borderBottom: '1px solid', borderColor: 'border.muted', verticalAlign: 'middle' } as const;
  return (
    <Box sx={{ p: 4, maxWidth: 1200, width: '100%', mx: 'auto' }} data-testid="users-page">
      <PageTitle>Users</PageTitle>
      <NewUserForm onCreated={load} />
      <ErrorFlash error={error} onDismiss={() => setError(null)} />
      {users === null ? (
        <Spinner size="small" />
      ) : (
        <Box as="table" sx={{ width: '100%', borderCollapse: 'collapse' }} data-testid="user-table">
          <thead>
            <tr>
              <Box as="th" sx={th}>Name</Box>
              <Box as="th" sx={th}>Role</Box>
              <Box as="th" sx={th}>Status</Box>
              <Box as="th" sx={th}>Created</Box>
              <Box as="th" sx={th}>Quotas</Box>
              <Box as="th" sx={th} aria-label="Actions" />
            </tr>
          </thead>
          <tbody>
            {users.map((u) => (
              <UserRow
                key={u.name}
                u={u}
                self={u.name === self}
                td={td}
                busy={busy === u.name}
                open={open === u.name}
                onToggle={() => toggle(u)}
                onPassword={() => setDialog({ kind: 'password', user: u })}
                onEdit={() => setDialog({ kind: 'edit', user: u })}
                onTokens={() => setOpen((o) => (o === u.name ? null : u.name))}
              />
            ))}
          </tbody>
        </Box>
      )}
      {dialog?.kind === 'password' ? <PasswordDialog user={dialog.user} onClose={closeDialog} /> : null}
      {dialog?.kind === 'edit' ? <EditDialog user={dialog.user} self={dialog.user.name === self} onClose={closeDialog} /> : null}
    </Box>
  );
}

interface RowProps {
  u: UserInfo;
  self: boolean;
  td: Record<string, unknown>;
  busy: boolean;
  open: boolean;
  onToggle: () => void;
  onPassword: () => void;
  onEdit: () => void;
  onTokens: () => void;
}

function UserRow({ u, self, td, busy, open, onToggle, onPassword, onEdit, onTokens }: RowProps) {
  return (
    <>
      <tr data-testid="user-row" data-user={u.name} data-disabled={u.disabled ? 'true' : 'false'}>
        <Box as="td" sx={{ ...td, fontWeight: 'bold' }}>
          {u.name}
          {self ? <Text sx={{ color: 'fg.muted', fontWeight: 'normal' }}> (you)</Text> : null}
        </Box>
        <Box as="td" sx={td}>
          <Label variant={u.role === 'admin' ? 'accent' : 'secondary'}>{u.role}</Label>
        </Box>
        <Box as="td" sx={td} data-testid="user-status">
          {u.disabled ? <Label variant="danger">disabled</Label> : <Label variant="success">active</Label>}
        </Box>
        <Box as="td" sx={{ ...td, color: 'fg.muted', fontSize: 0 }}>{u.created_at ? fmtTime(u.created_at) : '–'}</Box>
        <Box as="td" sx={{ ...td, fontSize: 0, color: 'fg.muted' }} data-testid="user-quotas">
          {Object.entries(u.quotas || {}).map(([k, v]) => (
            <div key={k}>
              {quotaLabel(k)}: <Text sx={{ color: 'fg.default' }}>{v ?? 'default'}</Text>
            </div>
          ))}
        </Box>
        <Box as="td" sx={{ ...td, textAlign: 'right' }}>
          <Box sx={{ display: 'inline-flex', gap: 1, flexWrap: 'wrap', justifyContent: 'flex-end' }}>
            <Button size="small" onClick={onEdit} data-testid="edit-user" aria-label={`Edit role and quotas of ${u.name}`}>
              Role &amp; quotas
            </Button>
            <Button size="small" onClick={onPassword} data-testid="reset-password" aria-label={`Reset the password of ${u.name}`}>
              Reset password
            </Button>
            <Button size="small" onClick={onTokens} aria-expanded={open} data-testid="show-user-tokens" aria-label={`API tokens of ${u.name}`}>
              Tokens
            </Button>
            <Button
              size="small"
              variant={u.disabled ? 'default' : 'danger'}
              onClick={onToggle}
              disabled={busy || self}
              title={self ? 'You cannot disable yourself' : undefined}
              data-testid="toggle-user"
            >
              {u.disabled ? 'Enable' : 'Disable'}
            </Button>
          </Box>
        </Box>
      </tr>
      {open ? (
        <tr>
          <Box as="td" colSpan={6} sx={{ ...td, p: 2 }}>
            <UserTokens user={u} />
          </Box>
        </tr>
      ) : null}
    </>
  );
}
