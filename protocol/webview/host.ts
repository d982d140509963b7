/**
 * Host ⇄ webview handshake shared by every surface. A webview posts `webview/ready` once its
 * script has loaded; the host answers with a full snapshot (never deltas).
 */
import { z } from 'zod';

export const surfaces = ['dashboard', 'marketplace', 'curator'] as const;
export type Surface = (typeof surfaces)[number];

/** Persisted UI state only (navigation, toggles); data always comes from the host. */
export const uiStateSchema = z
  .object({
    detailsOpen: z.boolean().optional(),
    /** The dashboard's chosen session and task, restored after a reload. */
    selectedSession: z.string().max(160).optional(),
    selectedTask: z.string().max(160).optional(),
  })
  .strict();
export type UiState = z.infer<typeof uiStateSchema>;

/** webview → host: the script is loaded and listening. */
export const readyMessage = z
  .object({
    type: z.literal('webview/ready'),
    surface: z.enum(surfaces),
    uiState: uiStateSchema.optional(),
  })
  .strict();
export type ReadyMessage = z.infer<typeof readyMessage>;
