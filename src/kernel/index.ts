// The kernel API that scenarios use, under Linux's names.
export * from "./atomic.ts";
export * from "./barrier.ts";
export * from "./bitops.ts";
export * from "./list.ts";
export * from "./percpu_defs.ts";
export { REFCOUNT_INIT, REFCOUNT_MAX, REFCOUNT_SATURATED, refcount_read, refcount_set, refcount_add, refcount_inc, refcount_add_not_zero, refcount_inc_not_zero, refcount_sub_and_test, refcount_dec_and_test, refcount_dec, type refcount_t } from "./refcount.ts";
export { printk, pr_info, BUG, BUG_ON, WARN_ON } from "./api_misc.ts";
export {
  current,
  smp_processor_id,
  raw_smp_processor_id,
  num_online_cpus,
  preempt_count,
  in_irq,
  in_softirq,
  in_interrupt,
  in_atomic,
  irqs_disabled,
  cpu_relax,
  preempt_disable,
  preempt_enable,
  preempt_enable_no_resched,
  cond_resched,
  schedule,
  wake_up_process,
  set_current_state,
  __set_current_state,
  kthread_run,
  __might_sleep,
} from "./sched/core.ts";
export { might_sleep } from "./api_misc.ts";
export { TASK_RUNNING, TASK_INTERRUPTIBLE, TASK_UNINTERRUPTIBLE, TASK_NORMAL, type Task } from "./sched/task.ts";
export * from "./sched/wait.ts";
export * from "./irqflags.ts";
export * from "./locking/spinlock.ts";
export * from "./locking/mutex.ts";
export { SINGLE_DEPTH_NESTING } from "./locking/lockdep.ts";
export { semaphore, sema_init, DEFINE_SEMAPHORE, down, down_interruptible, down_timeout, down_trylock, up, EINTR, ETIME } from "./locking/semaphore.ts";
export {
  rwlock_t,
  rwlock_init,
  DEFINE_RWLOCK,
  read_lock,
  read_unlock,
  read_lock_irq,
  read_unlock_irq,
  read_lock_irqsave,
  read_unlock_irqrestore,
  read_lock_bh,
  read_unlock_bh,
  write_lock,
  write_unlock,
  write_lock_irq,
  write_unlock_irq,
  write_lock_irqsave,
  write_unlock_irqrestore,
  write_lock_bh,
  write_unlock_bh,
} from "./locking/rwlock.ts";
export {
  seqcount_t,
  seqcount_init,
  write_seqcount_begin,
  write_seqcount_end,
  read_seqcount_begin,
  read_seqcount_retry,
  seqlock_t,
  seqlock_init,
  DEFINE_SEQLOCK,
  write_seqlock,
  write_sequnlock,
  write_seqlock_irq,
  write_sequnlock_irq,
  write_seqlock_irqsave,
  write_sequnlock_irqrestore,
  write_seqlock_bh,
  write_sequnlock_bh,
  read_seqbegin,
  read_seqretry,
} from "./locking/seqlock.ts";
export {
  open_softirq,
  raise_softirq,
  raise_softirq_irqoff,
  local_bh_disable,
  local_bh_enable,
  tasklet_struct,
  tasklet_init,
  tasklet_schedule,
  tasklet_hi_schedule,
  tasklet_disable,
  tasklet_disable_nosync,
  tasklet_enable,
  tasklet_kill,
  HI_SOFTIRQ,
  TIMER_SOFTIRQ,
  NET_TX_SOFTIRQ,
  NET_RX_SOFTIRQ,
  BLOCK_SOFTIRQ,
  TASKLET_SOFTIRQ,
  SCHED_SOFTIRQ,
  RCU_SOFTIRQ,
} from "./softirq.ts";
export * from "./irq/irqdesc.ts";
export { jiffies, msecs_to_jiffies, jiffies_to_msecs, usecs_to_jiffies, time_after, time_before, time_after_eq, time_before_eq } from "./time/tick.ts";
export * from "./time/sleep.ts";
export {
  timer_list,
  timer_setup,
  setup_timer,
  init_timer,
  mod_timer,
  add_timer,
  add_timer_on,
  del_timer,
  del_timer_sync,
  try_to_del_timer_sync,
  timer_pending,
  TIMER_DEFERRABLE,
  TIMER_PINNED,
  TIMER_IRQSAFE,
} from "./time/timer.ts";
export {
  work_struct,
  delayed_work,
  workqueue_struct,
  INIT_WORK,
  INIT_DELAYED_WORK,
  schedule_work,
  schedule_work_on,
  queue_work,
  queue_work_on,
  work_pending,
  flush_work,
  cancel_work_sync,
  schedule_delayed_work,
  schedule_delayed_work_on,
  queue_delayed_work,
  queue_delayed_work_on,
  cancel_delayed_work,
  cancel_delayed_work_sync,
  flush_delayed_work,
  flush_workqueue,
  alloc_workqueue,
  create_workqueue,
  create_singlethread_workqueue,
  destroy_workqueue,
  system_wq,
  system_highpri_wq,
  system_long_wq,
  WQ_UNBOUND,
  WQ_FREEZABLE,
  WQ_MEM_RECLAIM,
  WQ_HIGHPRI,
  WQ_CPU_INTENSIVE,
  WQ_MAX_ACTIVE,
  WQ_DFL_ACTIVE,
  WORK_CPU_UNBOUND,
} from "./workqueue.ts";
export { smp_call_function_single, smp_send_reschedule } from "./smp.ts";
export { nic, disk, device, kernel_era, ktime_get_ns, cpu_counters } from "./api_misc.ts";
export { machine_costs, kernel_pae, make_it_fail, kmemleak_scan, kmemleak_not_leak } from "./api_misc.ts";
export * from "./mm/gfp.ts";
export {
  alloc_pages,
  alloc_page,
  alloc_pages_node,
  __free_pages,
  __free_page,
  page_count,
  get_page,
  put_page,
  page_to_pfn,
  pfn_to_page,
  PageHighMem,
  page_to_nid,
  numa_node_id,
  page_address,
  set_page_address,
  virt_to_page,
  __pa,
  __va,
  format_kaddr,
  __get_free_pages,
  __get_free_page,
  get_zeroed_page,
  free_pages,
  free_page,
  for_each_populated_zone,
  vm_events,
  type page,
} from "./mm/page_alloc.ts";
export type { kaddr_t } from "./mm/page.ts";
export type { Zone } from "./mm/mmzone.ts";
export { page_cache_fill, mark_page_accessed, set_page_dirty } from "./mm/filemap.ts";
export { mem_read, mem_write, memset, memcpy } from "./mm/access.ts";
export { vmalloc, vzalloc, vmalloc_32, vfree, vmap, vunmap, vmalloc_to_page, unmap_kernel_range_noflush, vmalloc_faults } from "./mm/vmalloc.ts";
export { flush_tlb_kernel_range, flush_tlb_all, flush_tlb_mm, flush_tlb_page, flush_tlb_range, __flush_tlb_one } from "./mm/tlb.ts";
export { set_memory_ro, set_memory_rw } from "./mm/pageattr.ts";
export { on_each_cpu, on_each_cpu_mask } from "./smp.ts";
export { kmap, kunmap, kmap_atomic, kunmap_atomic, kmap_local_page, kunmap_local } from "./mm/highmem.ts";
export { KM_TYPES, type km_type } from "./mm/highmem_atomic.ts";
export { process_run, touch_anon_pages } from "./mm/process.ts";
export { fatal_signal_pending, signal_check } from "./signal.ts";
export { mmap_anon, munmap, TASK_SIZE } from "./mm/mmap.ts";
export { user_read, user_write } from "./mm/fault.ts";
export { loadsegment, gdt_selectors, current_ds } from "./segment.ts";
export type { mm_struct } from "./mm/mm_types.ts";
export { kmem_cache_create, kmem_cache_alloc, kmem_cache_zalloc, kmem_cache_free, type kmem_cache } from "./mm/slab.ts";
export { kmem_cache_shrink, kmem_cache_destroy } from "./mm/slab_shrink.ts";
export { SLAB_HWCACHE_ALIGN, SLAB_POISON, SLAB_RED_ZONE, SLAB_PANIC, SLAB_CACHE_DMA, SLAB_RECLAIM_ACCOUNT, SLAB_STORE_USER } from "./mm/slab_geometry.ts";
export { kmalloc, kzalloc, kcalloc, krealloc, kfree, ksize, ZERO_SIZE_PTR } from "./mm/kmalloc.ts";
export { mempool_create, mempool_alloc, mempool_free, mempool_resize, mempool_destroy, mempool_create_slab_pool, mempool_create_kmalloc_pool, mempool_create_page_pool, mempool_alloc_slab, mempool_free_slab, mempool_kmalloc, mempool_kfree, mempool_alloc_pages, mempool_free_pages, mempool_curr_nr, type mempool_t } from "./mm/mempool.ts";
export {
  rcu_read_lock,
  rcu_read_unlock,
  rcu_read_lock_held,
  rcu_dereference,
  rcu_dereference_check,
  rcu_dereference_protected,
  rcu_access_pointer,
  rcu_assign_pointer,
  RCU_INIT_POINTER,
  synchronize_rcu,
  call_rcu,
  kfree_rcu,
  rcu_barrier,
  rcu_head,
} from "./rcu/update.ts";
