// What the signed-in user may see: their grants and the tenant's enabled verticals (from `me`
// and `tenantVerticals`). A screen of a vertical shows only when the tenant enabled it and the
// user holds one of its permissions; the API refuses anything else anyway.
import { useEffect, useState } from "preact/hooks";
import { gql, session } from "./api";
import ME from "./operations/Me.graphql?raw";
import type { MeQuery } from "./generated/graphql";
import { useSignal } from "./state";

export interface Access {
  user: string;
  permissions: Set<string>;
  verticals: Set<string>;
}

export function holds(access: Access, prefix: string): boolean {
  for (const p of access.permissions) if (p === prefix || p.startsWith(prefix + ".")) return true;
  return false;
}

export function useAccess(): Access | null {
  const current = useSignal(session);
  const [access, setAccess] = useState<Access | null>(null);
  useEffect(() => {
    if (!current || current.mustChangePassword) return setAccess(null);
    let live = true;
    gql<MeQuery>(ME).then((me) => live && setAccess({
      user: me.me.user?.displayName ?? current.username,
      permissions: new Set(me.me.permissions.map((g) => g.permission)),
      verticals: new Set(me.tenantVerticals.filter((v) => v.enabled).map((v) => v.id)),
    }), () => undefined);
    return () => {
      live = false;
    };
  }, [current?.token]);
  return access;
}
