"""The ingestion process: a document's pages, chunks and vectors, and the outcome recorded.

The log drives it (infrastructure/ingestion.py follows it from a tracked position). Every
step may run again: chunk ids are deterministic (`{document_id}:{chunk}`) and a run ends by
dropping the document's chunks beyond its last, so a document processed again after a crash,
or with other settings, ends with exactly its own vectors. Progress is published, not stored.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO
from uuid import UUID

import structlog

from application.document_views import (
    DocumentProgress,
    DocumentReadModel,
    DocumentView,
    topic,
)
from application.documents import DocumentService, Embedders
from application.ports import (
    BlobStore,
    Chunker,
    Embedder,
    EventBus,
    ExtractionFailed,
    Extractor,
    IndexedChunk,
    ProviderError,
    VectorIndex,
)
from domain.document import Document, DocumentStatus, IndexSettings, Stage
from domain.errors import NotFound

log = structlog.get_logger(__name__)

ACTOR = "ingestion"
EMBED_BATCH = 64
PROGRESS_EVERY = 0.25  # seconds between two progress messages of one stage
MISSING_BLOB = "The uploaded file is missing from the blob store: upload it again."


class IngestionFailed(Exception):
    def __init__(self, stage: Stage, reason: str) -> None:
        super().__init__(reason)
        self.stage, self.reason = stage, reason


@dataclass
class IngestionReport:
    """What one document gave, and where the time went."""

    pages: int
    chunks: int
    model_id: str
    extract_seconds: float = 0.0
    chunk_seconds: float = 0.0
    embed_seconds: float = 0.0
    index_seconds: float = 0.0

    @property
    def total_seconds(self) -> float:
        return self.extract_seconds + self.chunk_seconds + self.embed_seconds + self.index_seconds


def index_document(
    stream: BinaryIO,
    *,
    document_id: str,
    metadata: dict[str, str],
    settings: IndexSettings,
    extract: Extractor,
    chunk: Chunker,
    embedder: Embedder,
    index: VectorIndex,
    on_progress: Callable[[DocumentProgress], None] = lambda _: None,
    batch_size: int = EMBED_BATCH,
) -> IngestionReport:
    """Extracts, chunks, embeds in batches and upserts one document; then drops its chunks
    beyond the last. `metadata` (workflow, node, filename) goes on every chunk. Raises
    ExtractionFailed, IngestionFailed or ProviderError."""
    clock = time.perf_counter
    model = embedder.model_id
    started = clock()
    pages = extract(
        stream, lambda done, total: on_progress(DocumentProgress("extracting", done, total))
    )
    report = IngestionReport(len(pages), 0, model, extract_seconds=clock() - started)
    started = clock()
    try:
        chunks = chunk(pages, settings.chunk_size, settings.chunk_overlap)
    except ValueError:
        raise IngestionFailed(
            Stage.CHUNK,
            f"The chunk overlap ({settings.chunk_overlap}) must be smaller than the chunk size "
            f"({settings.chunk_size}): change the Knowledge Base's settings.",
        ) from None
    report.chunks, report.chunk_seconds = len(chunks), clock() - started
    on_progress(DocumentProgress("embedding", len(pages), len(pages), 0, len(chunks)))
    for start in range(0, len(chunks), batch_size):
        batch = chunks[start : start + batch_size]
        started = clock()
        vectors = embedder.embed([c.text for c in batch])
        report.embed_seconds += clock() - started
        if len(vectors) != len(batch):
            raise ProviderError(f"The embedder returned {len(vectors)} vectors for {len(batch)}.")
        started = clock()
        index.upsert(
            model,
            [
                IndexedChunk(
                    id=f"{document_id}:{c.index}",
                    text=c.text,
                    embedding=vector,
                    metadata={
                        **metadata,
                        "document_id": document_id,
                        "page": c.page,
                        "chunk": c.index,
                    },
                )
                for c, vector in zip(batch, vectors, strict=True)
            ],
        )
        report.index_seconds += clock() - started
        done = start + len(batch)
        on_progress(DocumentProgress("embedding", len(pages), len(pages), done, len(chunks)))
    started = clock()
    # an earlier run with other settings (or a crash under them) may have left more chunks
    index.delete(model, {"document_id": document_id, "chunk": {"$gte": len(chunks)}})
    report.index_seconds += clock() - started
    return report


class Ingestion:
    """What the log asks of the index, made so: a document indexed, purged or re-embedded."""

    def __init__(
        self,
        documents: DocumentService,
        read_model: DocumentReadModel,
        blobs: BlobStore,
        extract: Extractor,
        chunk: Chunker,
        embedders: Embedders,
        index: VectorIndex,
        bus: EventBus,
        batch_size: int = EMBED_BATCH,
        progress_every: float = PROGRESS_EVERY,
    ) -> None:
        self.documents, self.read_model, self.blobs = documents, read_model, blobs
        self.extract, self.chunk, self.embedders = extract, chunk, embedders
        self.index, self.bus = index, bus
        self.batch_size, self.progress_every = batch_size, progress_every

    def process(self, document_id: UUID, generation: int) -> None:
        """Indexes the document for the request `generation`, unless it no longer stands.
        Idempotent: an indexed document whose vectors are all there is left alone."""
        doc = self.documents.load(document_id)
        if doc is None:
            return
        if doc.removed:
            self._purge(doc)
            return
        if doc.generation != generation or doc.status == DocumentStatus.FAILED:
            return
        if doc.status == DocumentStatus.PENDING:
            # the knowledge base may have changed between the upload and now
            wanted = self.documents.knowledge_bases(doc.workflow_id).get(doc.node_id)
            if wanted is not None and doc.needs_reindex(wanted):
                self.documents.request_reindex(doc.id, wanted, "settings changed", ACTOR)
                return
        try:
            embedder = self.embedders.for_settings(doc.settings)
        except ProviderError as e:
            self._fail(doc, Stage.EMBED, str(e), None)
            return
        model = embedder.model_id
        if doc.status == DocumentStatus.INDEXED and self._complete(doc, model):
            return
        try:
            with self.blobs.open(doc.blob_key) as stream:
                report = index_document(
                    stream,
                    document_id=str(doc.id),
                    metadata={
                        "workflow_id": str(doc.workflow_id),
                        "node_id": doc.node_id,
                        "filename": doc.filename,
                    },
                    settings=doc.settings,
                    extract=self.extract,
                    chunk=self.chunk,
                    embedder=embedder,
                    index=self.index,
                    on_progress=_Publisher(self.bus, DocumentView.of(doc), self.progress_every),
                    batch_size=self.batch_size,
                )
        except FileNotFoundError:
            self._fail(doc, Stage.READ, MISSING_BLOB, model)
        except ExtractionFailed as e:
            self._fail(doc, Stage.EXTRACT, e.reason, model)
        except IngestionFailed as e:
            self._fail(doc, e.stage, e.reason, model)
        except ProviderError as e:
            self._fail(doc, Stage.EMBED, str(e), model)
        else:
            self._succeed(doc, report)

    def purge(self, document_id: UUID) -> None:
        """Deletes the vectors of a removed document."""
        doc = self.documents.load(document_id)
        if doc is not None and doc.removed:
            self._purge(doc)

    def forget_workflow(self, workflow_id: UUID) -> None:
        """A deleted workflow's documents are removed, each as its own event, whose handling
        then deletes its vectors. Idempotent: one removed already is passed over."""
        for view in self.read_model.list_for_workflow(workflow_id):
            with contextlib.suppress(NotFound):
                self.documents.remove(view.id, ACTOR)

    def reconcile(self, workflow_id: UUID, node_id: str | None = None) -> None:
        """The workflow's knowledge bases (or just `node_id`) may have changed: documents
        whose settings no longer match their node's are indexed again."""
        views = [
            v
            for v in self.read_model.list_for_workflow(workflow_id)
            if node_id is None or v.node_id == node_id
        ]
        if not views:
            return
        wanted = self.documents.knowledge_bases(workflow_id)
        for view in views:
            settings = wanted.get(view.node_id)
            # The row tells which need not be asked; a pending one may have failed since.
            if settings is not None and (
                view.status == DocumentStatus.PENDING or view.needs_reindex(settings)
            ):
                self.documents.request_reindex(view.id, settings, "settings changed", ACTOR)

    # ---------------------------------------------------------------- mechanics

    def _complete(self, doc: Document, model: str) -> bool:
        if doc.embedding_model != model:
            return False
        return self.index.count(model, {"document_id": str(doc.id)}) == doc.chunk_count

    def _succeed(self, doc: Document, report: IngestionReport) -> None:
        if doc.status == DocumentStatus.INDEXED:
            return  # vectors put back (a rebuild): the log already says so
        after = self.documents.record_indexed(
            doc.id, doc.generation, report.pages, report.chunks, report.model_id, ACTOR
        )
        if after.generation != doc.generation or after.removed:
            # removed or asked again meanwhile: these vectors answer nothing now
            self._delete(report.model_id, doc.id)
            if after.removed:
                self._purge(after)
        elif doc.embedding_model and doc.embedding_model != report.model_id:
            self._delete(doc.embedding_model, doc.id)  # the earlier model's vectors
        log.info(
            "document indexed",
            document=str(doc.id),
            pages=report.pages,
            chunks=report.chunks,
            model=report.model_id,
            seconds=round(report.total_seconds, 2),
        )

    def _fail(self, doc: Document, stage: Stage, reason: str, model: str | None) -> None:
        log.info("document failed", document=str(doc.id), stage=stage.value, reason=reason)
        # a failed document has no vectors, whatever an interrupted run left
        for stale in filter(None, {model, doc.embedding_model}):
            self._delete(stale, doc.id)
        after = self.documents.record_failed(doc.id, doc.generation, stage, reason, ACTOR)
        if after.removed:
            self._purge(after)

    def _purge(self, doc: Document) -> None:
        models = {doc.embedding_model}
        with contextlib.suppress(ProviderError):  # no embedder could be made: none wrote
            models.add(self.embedders.for_settings(doc.settings).model_id)
        for model in filter(None, models):
            self._delete(model, doc.id)

    def _delete(self, model: str, document_id: UUID) -> None:
        self.index.delete(model, {"document_id": str(document_id)})


class _Publisher:
    """Progress on the event bus, at most every `every` seconds within a stage (the first
    and last message of each stage always go), so that a progress bar moves smoothly."""

    def __init__(self, bus: EventBus, view: DocumentView, every: float) -> None:
        self.bus, self.view, self.every = bus, view, every
        self._stage: str | None = None
        self._last = 0.0

    def __call__(self, progress: DocumentProgress) -> None:
        now = time.monotonic()
        last_of_stage = (
            progress.pages_extracted == progress.page_total
            if progress.stage == "extracting"
            else progress.chunks_embedded == progress.chunk_total
        )
        if progress.stage == self._stage and now - self._last < self.every and not last_of_stage:
            return
        self._stage, self._last = progress.stage, now
        try:
            self.bus.publish(
                topic(self.view.workflow_id), self.view.with_progress(progress).to_message()
            )
        except Exception:  # progress is a courtesy: it never stops the indexing
            log.warning("progress not published", document=str(self.view.id), exc_info=True)
