"""The Spark recipe of the docs, in pyspark's local mode: sync_partition under mapPartitions."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import pytest

from contactsync.dask import PartitionedRun, PartitionRun, partition_of, sync_partition
from contactsync.sandbox import Sandbox
from contactsync.sync import SyncStatus

K = 4


@pytest.mark.slow
def test_the_spark_recipe_syncs_every_partition(postgres_url: str) -> None:
    from pyspark import TaskContext
    from pyspark.sql import SparkSession

    with Sandbox(["mailjet"]) as sandbox:
        list_id = sandbox.connect("mailjet").create_list("Newsletter")
        settings = {**sandbox.credentials("mailjet"), "poll_interval": 0.02}
        spark = SparkSession.builder.master("local[2]").appName("contactsync").getOrCreate()
        try:
            frame = spark.createDataFrame(
                [(f"Spark{i:05d}@Example.com", "Blue") for i in range(2_000)], ["email", "team"]
            )
            keyed = frame.rdd.zipWithIndex().map(
                lambda pair: (partition_of(pair[0]["email"], K), (pair[1] + 1, pair[0].asDict()))
            )
            parted = keyed.partitionBy(K, lambda key: key)

            def sync(items: Iterable[tuple[int, tuple[int, dict[str, Any]]]]) -> Iterator[PartitionRun]:
                context: Any = TaskContext.get()
                numbered = [item for _, item in items]
                yield sync_partition(
                    (row for _, row in numbered),
                    context.partitionId(),
                    K,
                    numbers=[number for number, _ in numbered],
                    provider="mailjet",
                    settings=settings,
                    list_id=list_id,
                    name="spark",
                    state=postgres_url,
                    events=False,
                )

            summary = PartitionedRun.combine("spark", parted.mapPartitions(sync).collect())
        finally:
            spark.stop()
    assert summary.status is SyncStatus.COMPLETED
    assert (summary.counts.accepted, len(summary.partitions)) == (2_000, K)
    assert {p.partition.index for p in summary.partitions} == set(range(K))
    assert len(sandbox.contacts("mailjet", list_id)) == 2_000
