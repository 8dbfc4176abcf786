"""The ingestion process: a document's pages, chunks and vectors, and the outcome recorded.

The log drives it (infrastructure/ingestion_follower.py follows it from a tracked position; with
PostgreSQL it queues each document's job for worker processes, infrastructure/task_queue.py). Every
step may run again: chunk ids are deterministic (application.document.chunk_layout: one set per
generation) and a run ends by dropping the generation's chunks beyond its last, so a
document processed again after a crash ends with exactly its own vectors. Progress is
published, not stored.
"""

from __future__ import annotations

import contextlib
import functools
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass, replace
from typing import BinaryIO, TypeVar, cast
from uuid import UUID

import structlog
from opentelemetry import trace
from opentelemetry.trace import Status, StatusCode

from application import telemetry
from application.document.chunk_layout import (
    chunk_id,
    chunk_metadata,
    generation_chunks,
    legacy_chunks,
    old_chunk_partition,
    partition,
)
from application.document.commands import IndexFor, RecordFailed, RecordIndexed, RemoveDocument
from application.document.embedders import Embedders
from application.document.handlers import DocumentService
from application.document.views import (
    DocumentProgress,
    DocumentReadModel,
    DocumentView,
    topic,
)
from application.ports import (
    BlobStore,
    Chunker,
    Embedder,
    EventBus,
    ExtractionFailed,
    Extractor,
    IndexedChunk,
    LoadsModel,
    Locate,
    Meter,
    NoMeter,
    PageText,
    Partition,
    ProviderError,
    VectorIndex,
)
from domain.document import Document, DocumentIndex, DocumentStatus, Stage
from domain.errors import NotFound
from domain.knowledge_base import IndexSettings

log = structlog.get_logger(__name__)

R = TypeVar("R")

ACTOR = "ingestion"
SETTINGS_CHANGED = "settings changed"
EMBED_BATCH = 64
PROGRESS_EVERY = 0.25  # seconds between two progress messages of one stage
MISSING_BLOB = "The uploaded file is missing from the blob store: upload it again."
GAVE_UP = (
    "Indexing stopped on an unexpected error ({error}) {tries} times. Upload the file again; "
    "if it fails the same way, the server's log says more."
)
PAGES_PER_SLICE = 8  # pages extracted between two chances for other documents to go on
MAX_CHUNKS = 10_000  # of one document: its embedding would hold the indexer for minutes
TOO_MANY_CHUNKS = (
    "The document makes {count:,} passages, more than one document may ({limit:,}). Split it "
    "into smaller files, raise the Knowledge Base's chunk size, or ask the administrator to "
    "raise GENAI_MAX_DOCUMENT_CHUNKS."
)


class Interrupted(Exception):
    """The process stops: the indexing ended between two slices, to be run again (by this
    process later, or by another)."""


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
    generation: DocumentIndex,
    extract: Extractor,
    chunk: Chunker,
    embedder: Embedder,
    index: VectorIndex,
    on_progress: Callable[[DocumentProgress], None] = lambda _: None,
    batch_size: int = EMBED_BATCH,
    max_chunks: int = MAX_CHUNKS,
) -> IngestionReport:
    """Extracts, chunks, embeds in batches and upserts one generation of one document into
    its partition; then drops that generation's chunks beyond the last. `metadata`
    (workflow, node, filename) goes on every chunk, and its workflow and node choose the
    partition. Raises ExtractionFailed, IngestionFailed or ProviderError."""
    steps = index_steps(
        stream,
        document_id=document_id,
        metadata=metadata,
        generation=generation,
        extract=extract,
        chunk=chunk,
        embedder=embedder,
        index=index,
        on_progress=on_progress,
        batch_size=batch_size,
        max_chunks=max_chunks,
    )
    return run_to_end(steps)


def run_to_end(steps: Generator[None, None, R]) -> R:
    """What a generator of steps returns, all its steps taken at once."""
    while True:
        try:
            next(steps)
        except StopIteration as done:
            return cast(R, done.value)


def index_steps(
    stream: BinaryIO,
    *,
    document_id: str,
    metadata: dict[str, str],
    generation: DocumentIndex,
    extract: Extractor,
    chunk: Chunker,
    embedder: Embedder,
    index: VectorIndex,
    on_progress: Callable[[DocumentProgress], None] = lambda _: None,
    batch_size: int = EMBED_BATCH,
    max_chunks: int = MAX_CHUNKS,
) -> Generator[None, None, IngestionReport]:
    """`index_document` in slices: it yields after every `PAGES_PER_SLICE` pages extracted,
    after chunking, and after each batch embedded and upserted, so that a scheduler may
    run other documents' slices in between (one large document does not hold the others)."""
    clock = time.perf_counter
    model, settings, key = embedder.model_id, generation.settings, generation.key
    own = partition(model, metadata.get("workflow_id", ""), metadata.get("node_id", ""), key)
    started = clock()
    pages: list[PageText] = []
    for page in extract(
        stream,
        lambda done, total: on_progress(DocumentProgress("extracting", key, done, total)),
    ):
        pages.append(page)
        if len(pages) % PAGES_PER_SLICE == 0:
            yield
    report = IngestionReport(len(pages), 0, model, extract_seconds=clock() - started)
    yield
    started = clock()
    try:
        chunks = chunk(pages, settings.chunk_size, settings.chunk_overlap)
    except ValueError:
        raise IngestionFailed(
            Stage.CHUNK,
            f"The chunk overlap ({settings.chunk_overlap}) must be smaller than the chunk size "
            f"({settings.chunk_size}): change the Knowledge Base's settings.",
        ) from None
    if len(chunks) > max_chunks:
        raise IngestionFailed(
            Stage.CHUNK, TOO_MANY_CHUNKS.format(count=len(chunks), limit=max_chunks)
        )
    report.chunks, report.chunk_seconds = len(chunks), clock() - started
    if isinstance(embedder, LoadsModel) and not embedder.loaded:
        # torch and the weights take seconds on first use: say so rather than sit at 0 of N
        on_progress(DocumentProgress("loading", key, len(pages), len(pages), 0, len(chunks)))
        started = clock()
        embedder.load()
        report.embed_seconds += clock() - started
    on_progress(DocumentProgress("embedding", key, len(pages), len(pages), 0, len(chunks)))
    for start in range(0, len(chunks), batch_size):
        yield
        batch = chunks[start : start + batch_size]
        started = clock()
        vectors = embedder.embed([c.text for c in batch])
        report.embed_seconds += clock() - started
        if len(vectors) != len(batch):
            raise ProviderError(f"The embedder returned {len(vectors)} vectors for {len(batch)}.")
        started = clock()
        index.upsert(
            own,
            [
                IndexedChunk(
                    id=chunk_id(document_id, generation, c.index),
                    text=c.text,
                    embedding=vector,
                    metadata={
                        **metadata,
                        **chunk_metadata(document_id, generation, c.page, c.index),
                        **({"ocr": True} if c.ocr else {}),
                    },
                )
                for c, vector in zip(batch, vectors, strict=True)
            ],
        )
        report.index_seconds += clock() - started
        done = start + len(batch)
        on_progress(DocumentProgress("embedding", key, len(pages), len(pages), done, len(chunks)))
    started = clock()
    # a crash under other settings (or an earlier run) may have left more chunks
    beyond = {"chunk": {"$gte": len(chunks)}}
    index.delete(own, {"$and": [generation_chunks(document_id, generation), beyond]})
    report.index_seconds += clock() - started
    return report


class Ingestion:
    """What the log asks of the index, made so: a document's generations indexed or dropped,
    a removed document's vectors purged."""

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
        max_chunks: int = MAX_CHUNKS,
        meter: Meter | None = None,
    ) -> None:
        self.meter: Meter = meter or NoMeter()
        self.documents, self.read_model, self.blobs = documents, read_model, blobs
        self.extract, self.chunk, self.embedders = extract, chunk, embedders
        self.index, self.bus = index, bus
        self.batch_size, self.progress_every = batch_size, progress_every
        self.max_chunks = max_chunks

    def process(
        self,
        document_id: UUID,
        key: str,
        request: int,
        stopping: Callable[[], bool] = lambda: False,
    ) -> None:
        """Indexes generation `key` of the document for `request`, unless that no longer
        stands. Idempotent: a complete generation whose vectors are all there is left alone.
        `stopping` is asked between two slices: when it says so, the indexing ends there and
        Interrupted is raised (a queued job then goes back to the queue)."""
        steps = self.steps(document_id, key, request)
        for _ in steps:
            if stopping():
                steps.close()
                raise Interrupted(f"document {document_id} left between two slices")

    def steps(self, document_id: UUID, key: str, request: int) -> Generator[None, None, None]:
        """`process` in slices (see `index_steps`): the ingestion follower interleaves the
        slices of the documents waiting, so that a small one is not held by a large one."""
        doc = self.documents.load(document_id)
        if doc is None:
            return
        if doc.removed:
            self._purge(doc)
            return
        # the knowledge base may have changed between the request and now
        draft, published = self.documents.asked(doc.workflow_id, doc.node_id)
        if not doc.follows(draft, published):
            doc = self.documents.index_for(_settings_changed(doc.id, draft, published))
        generation = doc.indexes.get(key)
        if generation is None or generation.request != request:
            return
        if generation.status == DocumentStatus.FAILED:
            return
        try:
            embedder = self.embedders.for_settings(generation.settings)
        except ProviderError as e:
            self._fail(doc, generation, Stage.EMBED, str(e), None)
            return
        model = embedder.model_id
        if generation.complete and self._all_there(doc, generation, model):
            return
        started = time.time_ns()
        report: IngestionReport | None = None
        failed: Stage | None = None
        outcome = ""
        try:
            with self.blobs.open(doc.blob_key) as stream:
                report = yield from index_steps(
                    stream,
                    document_id=str(doc.id),
                    metadata={
                        "workflow_id": str(doc.workflow_id),
                        "node_id": doc.node_id,
                        "filename": doc.filename,
                    },
                    generation=generation,
                    extract=self.extract,
                    chunk=self.chunk,
                    embedder=embedder,
                    index=self.index,
                    on_progress=_Publisher(self.bus, DocumentView.of(doc), self.progress_every),
                    batch_size=self.batch_size,
                    max_chunks=self.max_chunks,
                )
        except FileNotFoundError:
            failed = Stage.READ
            self._fail(doc, generation, Stage.READ, MISSING_BLOB, model)
        except ExtractionFailed as e:
            failed = Stage.EXTRACT
            self._fail(doc, generation, Stage.EXTRACT, e.reason, model)
        except IngestionFailed as e:
            failed = e.stage
            self._fail(doc, generation, e.stage, e.reason, model)
        except ProviderError as e:
            failed = Stage.EMBED
            self._fail(doc, generation, Stage.EMBED, str(e), model)
        except GeneratorExit:  # the follower let the job go (dropped, or stopping)
            outcome = "stopped"
            raise
        except Exception:
            outcome = "error"
            raise
        else:
            self._succeed(doc, generation, report)
        finally:
            _trace(doc, model, started, report, failed)
            if outcome == "":
                outcome = "indexed" if report is not None and failed is None else "failed"
            self.meter.ingested(
                report.pages if report else 0, report.chunks if report else 0, outcome
            )

    def give_up(
        self, document_id: UUID, key: str, request: int, tries: int, error: BaseException
    ) -> None:
        """Generation `key` failed `tries` times on an error that is not the document's
        (the vector store or the embedder away, a bug): recorded as failed, so that the
        document does not stay pending for good. The error's class is named, not its text,
        which may quote a server's address or a key. Its vectors are deleted where they can
        be (an interrupted run may have written some)."""
        doc = self.documents.load(document_id)
        if doc is None:
            return
        generation = doc.indexes.get(key)
        if generation is None or generation.request != request:
            return
        if generation.status != DocumentStatus.PENDING:
            return
        for model in self._models(generation):
            try:
                self.index.delete(
                    _partition(doc, generation, model), generation_chunks(str(doc.id), generation)
                )
            except Exception:  # the index away: the failed generation does not answer anyway
                log.warning("a failed generation's vectors stay", document=str(doc.id))
        reason = GAVE_UP.format(error=type(error).__name__, tries=tries)
        self._fail(doc, generation, Stage.INDEX, reason, None)

    def drop(self, document_id: UUID, dropped: DocumentIndex) -> None:
        """Deletes the vectors of a generation the document no longer has (idempotent: the
        log holds the drop before any later request for the same generation)."""
        doc = self.documents.load(document_id)
        if doc is None:
            return
        for model in self._models(dropped):
            self.index.delete(
                _partition(doc, dropped, model), generation_chunks(str(document_id), dropped)
            )

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
                self.documents.remove(RemoveDocument(document_id=view.id, actor=ACTOR))

    def reconcile(self, workflow_id: UUID) -> None:
        """The workflow changed (its draft, a publication, a rollback…): each document is
        given the generations its knowledge base now asks for, and only those."""
        views = self.read_model.list_for_workflow(workflow_id)
        asked: dict[str, tuple[IndexSettings | None, IndexSettings | None]] = {}
        for view in views:
            if view.node_id not in asked:
                asked[view.node_id] = self.documents.asked(workflow_id, view.node_id)
            draft, published = asked[view.node_id]
            # The row tells which need not be asked (the aggregate decides for the others).
            if not view.follows(draft, published):
                self.documents.index_for(_settings_changed(view.id, draft, published))

    # ---------------------------------------------------------------- mechanics

    def _all_there(self, doc: Document, generation: DocumentIndex, model: str) -> bool:
        if generation.embedding_model != model:
            return False
        found = self.index.count(
            _partition(doc, generation, model), generation_chunks(str(doc.id), generation)
        )
        return found == generation.chunk_count

    def _succeed(self, doc: Document, generation: DocumentIndex, report: IngestionReport) -> None:
        if generation.complete:
            return  # vectors put back (a rebuild): the log already says so
        after = self.documents.record_indexed(
            RecordIndexed(
                actor=ACTOR,
                document_id=doc.id,
                key=generation.key,
                request=generation.request,
                page_count=report.pages,
                chunk_count=report.chunks,
                embedding_model=report.model_id,
            )
        )
        if after.removed:
            self._purge(after)
            return
        if generation.key not in after.indexes:  # dropped meanwhile: they answer nothing
            self.drop(doc.id, replace(generation, embedding_model=report.model_id))
        self._tidy_legacy(after, report.model_id)
        log.info(
            "document indexed",
            document=str(doc.id),
            generation=generation.key,
            pages=report.pages,
            chunks=report.chunks,
            model=report.model_id,
            seconds=round(report.total_seconds, 2),
        )

    def _fail(
        self,
        doc: Document,
        generation: DocumentIndex,
        stage: Stage,
        reason: str,
        model: str | None,
    ) -> None:
        log.info(
            "document failed",
            document=str(doc.id),
            generation=generation.key,
            stage=stage.value,
            reason=reason,
        )
        # a failed generation has no vectors, whatever an interrupted run left
        if model is not None and not generation.legacy:
            self.index.delete(
                _partition(doc, generation, model), generation_chunks(str(doc.id), generation)
            )
        after = self.documents.record_failed(
            RecordFailed(
                actor=ACTOR,
                document_id=doc.id,
                key=generation.key,
                request=generation.request,
                stage=stage,
                reason=reason,
            )
        )
        if after.removed:
            self._purge(after)
        elif model is not None:
            self._tidy_legacy(after, model)

    def _tidy_legacy(self, doc: Document, model: str) -> None:
        """Deletes chunks of the layout before generations once no index of the document is
        of that layout: they were its one index, now requested again in the new layout
        (under the same key, so in the same partition: the others hold none of them)."""
        if not any(i.legacy for i in doc.indexes.values()):
            for generation in doc.indexes.values():
                self.index.delete(_partition(doc, generation, model), legacy_chunks(str(doc.id)))

    def _purge(self, doc: Document) -> None:
        """Deletes a removed document's vectors, and its file unless another document holds
        the same bytes. (An upload of those bytes whose event is not stored yet may then
        find its file gone: it fails with MISSING_BLOB, and is uploaded again.)"""
        for generation in doc.indexes.values():
            for model in self._models(generation):
                self.index.delete(_partition(doc, generation, model), {"document_id": str(doc.id)})
        if not self.read_model.file_in_use(doc.sha256, doc.id):
            self.blobs.delete(doc.blob_key)

    def _models(self, generation: DocumentIndex) -> set[str]:
        """The embedding models a generation's vectors may be under."""
        models = {generation.embedding_model} - {None}
        with contextlib.suppress(ProviderError):  # no embedder could be made: none wrote
            models.add(self.embedders.for_settings(generation.settings).model_id)
        return {m for m in models if m}


def old_chunk_locator(documents: DocumentService) -> Locate:
    """Where each chunk of the layout before partitions goes (`VectorIndex.upgrade`): a
    keyed chunk names its generation; a legacy one goes to its document's legacy generation,
    read from the log once per document (none for a removed document: it answers nothing)."""

    @functools.cache
    def legacy_key(document_id: str) -> str | None:
        try:
            doc = documents.load(UUID(document_id))
        except ValueError:  # not one of ours
            return None
        if doc is None or doc.removed:
            return None
        return next((i.key for i in doc.indexes.values() if i.legacy), None)

    return functools.partial(old_chunk_partition, legacy_key=legacy_key)


def _partition(doc: Document, generation: DocumentIndex, model: str) -> Partition:
    return partition(model, doc.workflow_id, doc.node_id, generation.key)


def _settings_changed(
    document_id: UUID, draft: IndexSettings | None, published: IndexSettings | None
) -> IndexFor:
    return IndexFor(
        actor=ACTOR,
        document_id=document_id,
        draft=draft,
        published=published,
        reason=SETTINGS_CHANGED,
    )


def _trace(
    doc: Document,
    model: str,
    started: int,
    report: IngestionReport | None,
    failed: Stage | None,
) -> None:
    """The document's ingestion as a span, with a child per stage. The steps run in slices
    between other documents' (and embedding and upserting alternate by batch), so the spans
    are made afterwards from the measured times: each stage's span lasts the time spent in
    it, laid end to end from the start."""
    ended = time.time_ns()
    span = telemetry.tracer.start_span(
        "ingestion.document",
        context=trace.set_span_in_context(trace.INVALID_SPAN),
        start_time=started,
    )
    if not span.is_recording():
        return
    span.set_attribute(telemetry.STACK_ID, str(doc.workflow_id))
    span.set_attribute("genai.document.id", str(doc.id))
    span.set_attribute("genai.document.bytes", doc.size)
    span.set_attribute("genai.embedding.model", model)
    if report is not None:
        span.set_attribute("genai.document.pages", report.pages)
        span.set_attribute("genai.document.chunks", report.chunks)
        parent = trace.set_span_in_context(span)
        at = started
        for name, seconds in (
            ("ingestion.extract", report.extract_seconds),
            ("ingestion.chunk", report.chunk_seconds),
            ("ingestion.embed", report.embed_seconds),
            ("ingestion.index", report.index_seconds),
        ):
            stage = telemetry.tracer.start_span(name, context=parent, start_time=at)
            at += round(seconds * 1e9)
            stage.end(end_time=min(at, ended))
    if failed is not None:
        span.set_status(Status(StatusCode.ERROR, f"failed at {failed.value}"))
        span.set_attribute("error.type", failed.value)
    span.end(end_time=ended)


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
