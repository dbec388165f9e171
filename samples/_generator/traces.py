"""Java stack traces as CloudStack's JVM prints them: `\\tat` frames, `Caused by:`, `\\t... N more`."""

from __future__ import annotations


def frames(*lines: str) -> list[str]:
    return [f"\tat {line}" for line in lines]


def job_tail(java: int = 17) -> list[str]:
    """AsyncJobManagerImpl executor down to Thread.run (Java 11/17 module prefixes)."""
    b = "java.base/"
    return frames(
        "org.apache.cloudstack.framework.jobs.impl.AsyncJobManagerImpl$5.runInContext(AsyncJobManagerImpl.java:654)",
        "org.apache.cloudstack.managed.context.ManagedContextRunnable$1.run(ManagedContextRunnable.java:48)",
        "org.apache.cloudstack.managed.context.impl.DefaultManagedContext$1.call(DefaultManagedContext.java:55)",
        "org.apache.cloudstack.managed.context.impl.DefaultManagedContext.callWithContext(DefaultManagedContext.java:102)",
        "org.apache.cloudstack.managed.context.impl.DefaultManagedContext.runWithContext(DefaultManagedContext.java:52)",
        "org.apache.cloudstack.managed.context.ManagedContextRunnable.run(ManagedContextRunnable.java:45)",
        "org.apache.cloudstack.framework.jobs.impl.AsyncJobManagerImpl$5.run(AsyncJobManagerImpl.java:602)",
        f"{b}java.util.concurrent.Executors$RunnableAdapter.call(Executors.java:{539 if java == 17 else 515})",
        f"{b}java.util.concurrent.FutureTask.run(FutureTask.java:{264})",
        f"{b}java.util.concurrent.ThreadPoolExecutor.runWorker(ThreadPoolExecutor.java:{1136 if java == 17 else 1128})",
        f"{b}java.util.concurrent.ThreadPoolExecutor$Worker.run(ThreadPoolExecutor.java:{635 if java == 17 else 628})",
        f"{b}java.lang.Thread.run(Thread.java:{840 if java == 17 else 829})",
    )


def reflect(java: int = 17) -> list[str]:
    b = "java.base/"
    return frames(
        f"{b}jdk.internal.reflect.NativeMethodAccessorImpl.invoke0(Native Method)",
        f"{b}jdk.internal.reflect.NativeMethodAccessorImpl.invoke(NativeMethodAccessorImpl.java:{77 if java == 17 else 62})",
        f"{b}jdk.internal.reflect.DelegatingMethodAccessorImpl.invoke(DelegatingMethodAccessorImpl.java:43)",
        f"{b}java.lang.reflect.Method.invoke(Method.java:{568 if java == 17 else 566})",
    )


def spring_proxy(method: str, proxy: str = "$Proxy214", java: int = 17) -> list[str]:
    """A call through CloudStack's Spring AOP interceptors (action events, contrail event utils)."""
    pkg = "jdk.proxy3" if java == 17 else "com.sun.proxy"
    return reflect(java) + frames(
        "org.springframework.aop.support.AopUtils.invokeJoinpointUsingReflection(AopUtils.java:344)",
        "org.springframework.aop.framework.ReflectiveMethodInvocation.invokeJoinpoint(ReflectiveMethodInvocation.java:198)",
        "org.springframework.aop.framework.ReflectiveMethodInvocation.proceed(ReflectiveMethodInvocation.java:163)",
        "org.apache.cloudstack.network.contrail.management.EventUtils$EventInterceptor.invoke(EventUtils.java:107)",
        "org.springframework.aop.framework.ReflectiveMethodInvocation.proceed(ReflectiveMethodInvocation.java:175)",
        "com.cloud.event.ActionEventInterceptor.invoke(ActionEventInterceptor.java:52)",
        "org.springframework.aop.framework.ReflectiveMethodInvocation.proceed(ReflectiveMethodInvocation.java:175)",
        "org.springframework.aop.interceptor.ExposeInvocationInterceptor.invoke(ExposeInvocationInterceptor.java:97)",
        "org.springframework.aop.framework.ReflectiveMethodInvocation.proceed(ReflectiveMethodInvocation.java:186)",
        "org.springframework.aop.framework.JdkDynamicAopProxy.invoke(JdkDynamicAopProxy.java:215)",
        f"{pkg}.{proxy}.{method}(Unknown Source)",
    )


def api_dispatch(cmd_class: str, cmd_file: str, line: int, java: int = 17) -> list[str]:
    """From the command's execute() through ApiDispatcher to the job executor."""
    return frames(
        f"{cmd_class}.execute({cmd_file}:{line})",
        "com.cloud.api.ApiDispatcher.dispatch(ApiDispatcher.java:172)",
        "com.cloud.api.ApiAsyncJobDispatcher.runJob(ApiAsyncJobDispatcher.java:112)",
    ) + job_tail(java)


def work_job(handler: str, handler_line: int, java: int = 17) -> list[str]:
    """orchestrateXxx reached through VmWorkJobHandlerProxy and VmWorkJobDispatcher."""
    return reflect(java) + frames(
        "com.cloud.vm.VmWorkJobHandlerProxy.handleVmWorkJob(VmWorkJobHandlerProxy.java:102)",
        f"com.cloud.vm.VirtualMachineManagerImpl.handleVmWorkJob(VirtualMachineManagerImpl.java:{handler_line})",
        "com.cloud.vm.VmWorkJobDispatcher.runJob(VmWorkJobDispatcher.java:99)",
    ) + job_tail(java)
