/*
  Warnings:

  - Added the required columns `revision`, `api_version`, `diff` and `action` to the `policy_versions` table without a default value. This is not possible if the table is not empty (nothing wrote policy versions before this migration).

*/
-- AlterTable
ALTER TABLE "policy_versions" ADD COLUMN     "action" TEXT NOT NULL,
ADD COLUMN     "api_version" TEXT NOT NULL,
ADD COLUMN     "diff" TEXT NOT NULL,
ADD COLUMN     "metadata" JSONB NOT NULL DEFAULT '{}',
ADD COLUMN     "revision" INTEGER NOT NULL;

-- CreateTable
CREATE TABLE "policy_revisions" (
    "revision" INTEGER NOT NULL,
    "operation" TEXT NOT NULL,
    "author" TEXT NOT NULL,
    "source_yaml" TEXT NOT NULL,
    "changes" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "policy_revisions_pkey" PRIMARY KEY ("revision")
);

-- CreateIndex
CREATE INDEX "policy_versions_revision_idx" ON "policy_versions"("revision");

-- AddForeignKey
ALTER TABLE "policy_versions" ADD CONSTRAINT "policy_versions_revision_fkey" FOREIGN KEY ("revision") REFERENCES "policy_revisions"("revision") ON DELETE RESTRICT ON UPDATE CASCADE;
