-- When the mesh CA's last certificate for this workload expires (null: never issued one), so `trellis get
-- sidecars` and `trellis check` can show identities about to lapse.
ALTER TABLE "workloads" ADD COLUMN "cert_expiry" TIMESTAMPTZ(3);
